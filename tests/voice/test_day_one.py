"""Voice on day one: what ships with klantreis reads nl/da/en webshop text right without a
single rated review (lexicons, rules, review models), and topics say what a text is about."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from stories import story

from klantreis.measure.voice.review_model import ReviewModel, _read, review_model
from klantreis.measure.voice.scoring import VoiceScorer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from voice_webshop import LANGUAGES, evaluate

SCORER = VoiceScorer()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nl", "Retourneren was een drama, ze weigerden mijn retour."),
        ("nl", "Mijn pakket is na twee weken nog steeds niet bezorgd."),
        ("nl", "De klantenservice reageert niet op mijn mails."),
        ("nl", "Het apparaat werkt niet."),
        ("nl", "Veel te duur voor wat je krijgt."),
        ("nl", "Nog nooit zo slecht geholpen."),
        ("da", "Min pakke er stadig ikke leveret efter to uger."),
        ("da", "De nægter at refundere mine penge."),
        ("da", "Alt for dyrt i forhold til hvad man får."),
        ("en", "They refuse to give my money back."),
        ("en", "I was charged twice for one order."),
        ("en", "The device does not work."),
    ],
)
def test_clearly_negative_webshop_sentences_are_negative(language: str, text: str) -> None:
    assert SCORER.score(text, language).label == "negative"


@pytest.mark.parametrize(
    ("language", "text", "label"),
    [
        ("nl", "Het product is niet goed.", "negative"),
        ("nl", "Het product is niet slecht.", "positive"),
        ("da", "Produktet er ikke godt.", "negative"),
        ("en", "The product is not good.", "negative"),
        ("en", "It was not good at all.", "negative"),
    ],
)
def test_negation_turns_the_word_it_governs(language: str, text: str, label: str) -> None:
    assert SCORER.score(text, language).label == label


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nl", "Goed product, maar de levering duurde twee weken."),
        ("da", "God vare, men leveringen tog to uger."),
        ("en", "Great product, but the delivery took three weeks."),
    ],
)
def test_contrast_gives_the_topic_after_but_its_own_sentiment(language: str, text: str) -> None:
    score = SCORER.score(text, language)
    about = {topic: label for topic, _, label in score.topic_sentiment}
    assert about == {"delivery": "negative"}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nl", "Ik heb gebeld en PostNL wees naar de webshop."),
        ("nl", "Besteld bij de webshop, verstuurd met DHL."),
        ("da", "Jeg ringede, og PostNord henviste bare til webshoppen."),
        ("da", "GLS og webshoppen."),
        ("en", "I called and DHL pointed me back to the web shop."),
        ("en", "Money was taken from my account."),
    ],
)
def test_no_topic_from_shop_or_carrier_names(language: str, text: str) -> None:
    topics = SCORER.score(text, language).topics
    assert "website/search/filters" not in topics
    if "verstuurd" not in text:
        assert topics == ()


def test_in_passing_words_need_an_opinion_in_their_clause() -> None:
    assert SCORER.score("Ik heb via de website besteld.", "nl").topics == ()
    website = SCORER.score("De website is onoverzichtelijk.", "nl")
    assert website.topics == ("website/search/filters",) and website.label == "negative"


def test_a_question_without_opinion_is_neutral() -> None:
    for text, language in (("Kan ik achteraf betalen?", "nl"), ("Can I pay by invoice?", "en")):
        assert SCORER.score(text, language).label == "neutral"


# measured when the set was written (nl 0.82, da 0.74, en 0.86; da 0.79 since the Danish mix
# was chosen on general text too; da 0.845 on 188 sentences with Danish negation scope, where
# the code before reached 0.719 on the same 188); a drop below these is a regression, not
# noise: the scorer is deterministic
MIN_MACRO_F1 = {"nl": 0.80, "da": 0.82, "en": 0.80}
MIN_TOPIC_PRECISION = 0.75
MIN_TOPIC_RECALL = 0.75


@pytest.mark.parametrize("language", LANGUAGES)
def test_hand_labelled_webshop_sentences(language: str) -> None:
    f1, figures, pairs = evaluate(language)
    assert len(pairs) >= 100
    assert f1 >= MIN_MACRO_F1[language]
    found = sum(t.found for t in figures)
    correct = sum(t.correct for t in figures)
    gold = sum(t.gold for t in figures)
    assert correct / found >= MIN_TOPIC_PRECISION
    assert correct / gold >= MIN_TOPIC_RECALL


def test_shipped_review_models_read_reviews() -> None:
    for language, good, bad in (
        ("da", "Perfekt, hurtig levering og god service", "Elendig kundeservice, aldrig igen"),
        ("en", "Great phone, works perfectly", "Terrible, it broke after a day"),
    ):
        model = review_model(language)
        assert model is not None and len(model.weights) > 1000
        assert model.probability(good) > 0.5 > model.probability(bad)
    assert review_model("nl") is None


def test_review_model_round_trips_and_names_a_bad_line(tmp_path: Path) -> None:
    model = ReviewModel("xx", 0.25, {"good": (1.5, 2.0), "not good": (-2.0, 3.0)}, frozenset(), ())
    path = tmp_path / "reviews_xx.tsv.gz"
    model.write(path, "test model")
    assert _read(path, "xx") == model
    assert model.probability("good") > 0.5 > model.probability("not good")
    with gzip.open(path, "at", encoding="utf-8") as handle:
        handle.write("broken\tnot-a-number\t1\n")
    with pytest.raises(ValueError, match=r"reviews_xx.tsv.gz:\d+: not a term, weight and idf"):
        _read(path, "xx")


def test_scoring_needs_no_spacy_nor_textblob() -> None:
    code = (
        "import sys; from klantreis.measure.voice.scoring import VoiceScorer; "
        "VoiceScorer().score_many(['Slecht', 'Dårlig', 'Bad', 'Goed product, maar']); "
        "heavy = {'spacy', 'thinc', 'asent', 'textblob', 'nltk'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_topic_rows_agree_with_their_quotes(kr) -> None:
    """A topic's figures are those of the clauses about it; its quotes are labelled, the more
    common label first, and each quote's label matches its sentiment about the topic."""
    day = datetime(2026, 3, 2)
    texts = [
        (5, "Retourneren ging heel makkelijk, top geregeld."),
        (5, "Makkelijk retour en snel mijn geld terug, prima."),
        (4, "Het terugsturen was gratis en eenvoudig."),
        (1, "Retourneren was een drama, ze weigerden mijn retour."),
        (2, "Goed product, maar de levering duurde twee weken."),
        (5, "Snelle levering, de volgende dag al in huis."),
    ]
    kr.store.append(
        story(
            {
                f"p{i}": [
                    (
                        "Review Submitted",
                        day + timedelta(days=i),
                        {"properties": {"rating": rating, "language": "nl", "text": text}},
                    )
                ]
                for i, (rating, text) in enumerate(texts)
            }
        )
    )
    rows = {r["topic"]: r for r in kr.voice().to_pylist()}
    returns = rows["returns"]
    assert returns["texts"] == 4 and returns["positive_share"] == 0.75
    labels = [q["label"] for q in returns["quotes"]]
    assert labels == ["positive", "negative"]
    for quote in returns["quotes"]:
        assert (quote["sentiment"] > 0) == (quote["label"] == "positive")
    assert "drama" in returns["quotes"][1]["text"]
    # the "goed product, maar de levering…" review counts as negative for delivery
    delivery = rows["delivery"]
    assert delivery["texts"] == 2 and delivery["negative_share"] == 0.5
    negative = [q for q in delivery["quotes"] if q["label"] == "negative"]
    assert negative and "levering duurde" in negative[0]["text"]
