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
