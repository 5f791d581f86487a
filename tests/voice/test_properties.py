"""Properties that hold for any text and any link (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klantreis.collect.surveys import SurveyError, SurveyLink, make_token, read_token
from klantreis.measure.voice import VoiceScorer
from klantreis.measure.voice.sentiment import NEUTRAL_BAND, lexicon_sentiment
from klantreis.store import Store

WORDS = st.sampled_from(
    [
        "niet",
        "goed",
        "slecht",
        "levering",
        "ikke",
        "god",
        "hurtig",
        "not",
        "great",
        "but",
        "não",
        "ótimo",
        "péssimo",
        "sehr",
        "schnell",
        "kapot",
        "!",
        ",",
        ".",
        "heel",
        "🙂",
        "<b>",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(WORDS, max_size=25).map(" ".join),
    st.sampled_from(["nl", "da", "en", "de", "pt", "pl", "und"]),
)
def test_lexicon_score_is_bounded_and_labelled_by_its_sign(text: str, language: str) -> None:
    result = lexicon_sentiment(text, language)
    assert -1.0 <= result.score <= 1.0
    # The label agrees with the sign; only scores near zero are neutral.
    if result.label == "positive":
        assert result.score > 0
    elif result.label == "negative":
        assert result.score < 0
    else:
        assert result.label == "neutral" and abs(result.score) < NEUTRAL_BAND
    if abs(result.score) >= NEUTRAL_BAND:
        assert result.label != "neutral"


@pytest.mark.parametrize(
    ("text", "language", "label"),
    [
        ("heel goed en snel", "nl", "positive"),
        ("slecht, kapot en te laat", "nl", "negative"),
        ("the parcel arrived", "en", "neutral"),
    ],
)
def test_lexicon_labels_plain_examples(text: str, language: str, label: str) -> None:
    assert lexicon_sentiment(text, language).label == label


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_scores_without_error(text: str) -> None:
    result = VoiceScorer().score(text)
    assert -1.0 <= result.sentiment <= 1.0
    assert result.text == text  # kept as given


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    handle = Store(Path(tmp_path_factory.mktemp("links")) / "s.duckdb")
    yield handle
    handle.close()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(min_value=0), st.characters(codec="ascii", categories=["L", "N"]))
def test_any_changed_character_invalidates_a_link(store, position: int, char: str) -> None:
    token = make_token(store, SurveyLink("csat", "anna", None, "o1", "nl"))
    i = len(token) - 1 - position % 3 if position % 2 else position % len(token)
    if token[i] == char:
        return
    with pytest.raises(SurveyError) as error:
        read_token(store, token[:i] + char + token[i + 1 :])
    assert error.value.field == "token"
