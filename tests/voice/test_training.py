"""The shop's own model: learned from its rated reviews, used for its unrated texts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from sklearn.metrics import f1_score
from stories import event_row

from klantreis.measure.voice.model import rating_label
from klantreis.measure.voice.sentiment import lexicon_sentiment
from klantreis.measure.voice.stored import update_voice
from klantreis.measure.voice.training import load_shop_model, train_shop_model
from klantreis.store.schema import EVENT_ARROW_SCHEMA

START = datetime(2018, 1, 1)


def review_events(rows: list[dict], *, rated: bool = True) -> pa.Table:
    events = []
    for i, row in enumerate(rows):
        props = {
            "review_id": row["review_id"],
            "order_id": row["order_id"],
            "title": row["review_comment_title"],
            "text": row["review_comment_message"],
        }
        if rated:
            props["rating"] = int(row["review_score"])
        events.append(
            event_row(
                f"c{i}", "Review Submitted", START + timedelta(minutes=i), seq=i, properties=props
            )
        )
    return pa.Table.from_pylist(events, schema=EVENT_ARROW_SCHEMA)


@pytest.mark.slow
def test_model_learned_from_olist_reviews_beats_the_lexicon(kr, olist_reviews) -> None:
    train, test = olist_reviews[:1500], olist_reviews[1500:2300]
    kr.store.append(review_events(train))
    summary = train_shop_model(kr.store)
    assert summary.examples == 1500
    assert summary.languages.get("pt", 0) > 1200
    model = load_shop_model(kr.store)
    assert model is not None and model.covers("pt")

    texts = [r["review_comment_message"] for r in test]
    truth = [rating_label(float(r["review_score"])) for r in test]
    learned = [label for _, label in model.predict(texts, ["pt"] * len(texts))]
    lexicon = [lexicon_sentiment(t, "pt").label for t in texts]
    learned_f1 = f1_score(truth, learned, average="macro")
    lexicon_f1 = f1_score(truth, lexicon, average="macro")
    assert learned_f1 > lexicon_f1 + 0.03, (learned_f1, lexicon_f1)


def test_unrated_texts_are_scored_by_the_shop_model(kr, olist_reviews) -> None:
    kr.store.append(review_events(olist_reviews[:600]))
    ticket = event_row(
        "zoe",
        "Ticket Created",
        START,
        properties={"subject": "Pedido", "text": "O produto não chegou ainda, péssimo atendimento"},
    )
    dutch = event_row(
        "jan",
        "Ticket Created",
        START,
        properties={"subject": "Bestelling", "text": "Mijn pakket is nog steeds niet bezorgd"},
    )
    kr.store.append(pa.Table.from_pylist([ticket, dutch], schema=EVENT_ARROW_SCHEMA))
    result = update_voice(kr.store)
    assert result.model == "model" and result.scored == 602
    rows = {
        r["user_id"]: r
        for r in kr.sql(
            "SELECT user_id, method, label, language FROM voice WHERE event = 'Ticket Created'"
        ).to_pylist()
    }
    assert rows["zoe"]["method"] == "model" and rows["zoe"]["label"] == "negative"
    # The model never saw Dutch: the lexicons score it.
    assert rows["jan"]["method"] == "lexicon" and rows["jan"]["language"] == "nl"


def test_too_few_rated_reviews_fall_back_to_lexicons(kr, olist_reviews) -> None:
    kr.store.append(review_events(olist_reviews[:20]))
    result = update_voice(kr.store)
    assert result.model == "lexicon"
    assert "lexicons only" in result.note
    assert load_shop_model(kr.store) is None
    methods = kr.sql("SELECT DISTINCT method FROM voice").to_pylist()
    assert methods == [{"method": "lexicon"}]


def test_scoring_is_incremental(kr, olist_reviews) -> None:
    kr.store.append(review_events(olist_reviews[:30]))
    assert update_voice(kr.store).scored == 30
    assert update_voice(kr.store).scored == 0
    more = review_events(olist_reviews[30:40], rated=False)
    kr.store.append(more.set_column(0, "message_id", pa.array([f"new-{i}" for i in range(10)])))
    assert update_voice(kr.store).scored == 10
    assert kr.sql("SELECT count(*) AS n FROM voice").to_pylist() == [{"n": 40}]


def test_the_update_reads_each_text_and_clause_once_and_stores_what_each_text_alone_gets(
    kr, olist_reviews, monkeypatch
) -> None:
    """A rated review is read for the model's features when it trains, again when it is
    scored, and again by the plain-question check; repeated reviews and clauses are read once
    per update. What is stored is what scoring each text alone with the stored model gives."""
    from klantreis.measure.voice import sentiment
    from klantreis.measure.voice.scoring import VoiceScorer

    reviews = review_events(olist_reviews[:300] + olist_reviews[:60])
    ids = pa.array([f"r{i}" for i in range(reviews.num_rows)])
    kr.store.append(reviews.set_column(0, "message_id", ids))
    reads: dict[tuple[tuple[str, ...], str], int] = {}
    read = sentiment._read

    def counting(toks, language):
        key = (tuple(toks), language)
        reads[key] = reads.get(key, 0) + 1
        return read(toks, language)

    monkeypatch.setattr(sentiment, "_read", counting)
    result = update_voice(kr.store)
    monkeypatch.undo()
    assert result.model == "model" and result.scored == 360
    assert reads and max(reads.values()) == 1, sorted(reads.items(), key=lambda kv: -kv[1])[:3]

    model = load_shop_model(kr.store)
    alone = VoiceScorer(model)
    rows = kr.sql(
        "SELECT v.message_id, v.text, v.language, v.sentiment, v.label, v.topics, v.method, "
        "list(t.topic ORDER BY t.topic) AS names, list(t.sentiment ORDER BY t.topic) AS values "
        "FROM voice AS v LEFT JOIN voice_topics AS t USING (message_id) GROUP BY ALL"
    ).to_pylist()
    assert len(rows) == 360
    for row in rows:
        expected = alone.score(row["text"])
        assert (row["language"], row["sentiment"], row["label"], row["method"]) == (
            expected.language,
            expected.sentiment,
            expected.label,
            expected.method,
        )
        assert row["topics"] == ",".join(expected.topics)
        found = sorted((t, s) for t, s, _ in expected.topic_sentiment)
        named = [(n, v) for n, v in zip(row["names"], row["values"], strict=True) if n]
        assert named == found


def test_the_model_predicts_each_distinct_text_once(kr, olist_reviews, monkeypatch) -> None:
    kr.store.append(review_events(olist_reviews[:300]))
    train_shop_model(kr.store)
    model = load_shop_model(kr.store)
    assert model is not None
    texts = [r["review_comment_message"] for r in olist_reviews[300:320]]
    asked = texts + texts[:5] + ["Muito bom", "Muito bom"]
    alone = [model.predict([t], ["pt"])[0] for t in asked]
    rows: list[int] = []
    predict_proba = model.pipeline.predict_proba

    def counting(frame):
        rows.append(len(frame))
        return predict_proba(frame)

    monkeypatch.setattr(model.pipeline, "predict_proba", counting)
    assert model.predict(asked, ["pt"] * len(asked)) == alone
    assert rows == [len(set(asked))]
