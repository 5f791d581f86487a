"""Language, sentiment and topics of single texts, offline, in the shop's languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from klantreis.measure.voice import VoiceScorer
from klantreis.measure.voice.language import detect_language
from klantreis.measure.voice.sentiment import lexicon_sentiment
from klantreis.measure.voice.topics import PHASE_OF_TOPIC, TOPICS, detect_topics


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Het pakket kwam twee dagen te laat aan en niemand liet iets weten", "nl"),
        ("Varen blev leveret hurtigt og kundeservice var meget venlig", "da"),
        ("The parcel arrived late and nobody told us anything", "en"),
        ("Die Lieferung hat eine Woche gedauert, sehr enttäuschend", "de"),
        ("O produto chegou antes do prazo e muito bem embalado", "pt"),
    ],
)
def test_language_is_detected_offline(text: str, language: str) -> None:
    assert detect_language(text)[0] == language


def test_text_without_letters_has_no_language() -> None:
    assert detect_language("12345 !!!")[0] == "und"


@pytest.mark.parametrize(
    ("text", "language", "label"),
    [
        ("Super snelle levering, echt een aanrader!", "nl", "positive"),
        ("Pakket kwam niet aan, waardeloze klantenservice", "nl", "negative"),
        ("Hurtig levering og god service", "da", "positive"),
        ("Varen var ødelagt og jeg er meget skuffet", "da", "negative"),
        ("Great product, fast shipping", "en", "positive"),
        ("Terrible service, never again", "en", "negative"),
        ("Schnelle Lieferung, sehr zufrieden", "de", "positive"),
        ("Produto chegou quebrado, péssimo", "pt", "negative"),
        ("Recomendo, ótimo vendedor", "pt", "positive"),
        ("Ik heb het pakket vandaag opgehaald", "nl", "neutral"),
    ],
)
def test_lexicon_sentiment_label(text: str, language: str, label: str) -> None:
    result = lexicon_sentiment(text, language)
    assert result.label == label, result
    assert -1.0 <= result.score <= 1.0


def test_negation_flips_within_its_clause_only() -> None:
    assert lexicon_sentiment("niet goed", "nl").score < 0 < lexicon_sentiment("goed", "nl").score
    assert lexicon_sentiment("ikke god", "da").score < 0
    assert lexicon_sentiment("não gostei", "pt").score < 0
    # "niet" belongs to the first clause; the insult after the comma stays negative.
    assert lexicon_sentiment("Pakket kwam niet aan, oplichters", "nl").score < 0


def test_language_without_lexicon_is_neutral_not_an_error() -> None:
    assert lexicon_sentiment("Bardzo dobry produkt", "pl").label == "neutral"


@pytest.mark.parametrize(
    ("text", "language", "topics"),
    [
        (
            "Bezorging duurde lang en de verpakking was kapot",
            "nl",
            {"delivery", "packaging", "product quality"},
        ),
        ("Retour aangemeld maar nog geen geld terug", "nl", {"returns"}),
        ("Betaling via iDEAL mislukte twee keer", "nl", {"payment"}),
        ("Kundeservice svarede aldrig på min mail", "da", {"customer service", "communication"}),
        ("Prisen er for høj i forhold til kvaliteten", "da", {"price/value", "product quality"}),
        ("Search and filters on the website are useless", "en", {"website/search/filters"}),
        ("The description did not match the picture", "en", {"product information"}),
        ("Entrega atrasada e o produto veio com defeito", "pt", {"delivery", "product quality"}),
    ],
)
def test_topics(text: str, language: str, topics: set[str]) -> None:
    assert set(detect_topics(text, language)) == topics


def test_every_topic_maps_to_a_default_phase() -> None:
    phases = {"awareness", "orientation", "consideration", "purchase", "service", "evaluation"}
    assert len(TOPICS) == 10
    assert set(PHASE_OF_TOPIC.values()) <= phases


def test_scorer_combines_language_sentiment_topics() -> None:
    result = VoiceScorer().score("De levering was veel te laat en de klantenservice onbeleefd")
    assert result.language == "nl"
    assert result.label == "negative"
    assert result.method == "lexicon"
    assert {"delivery", "customer service"} <= set(result.topics)
    assert result.phases == ("service",)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "klantreis.present.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_scores_a_text_file_as_json(tmp_path: Path) -> None:
    path = tmp_path / "texts.txt"
    path.write_text("Snelle levering, goede service\n\n<script>alert(1)</script> slecht\n", "utf-8")
    run = _cli("voice", "score", "--text-file", str(path), "--json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [r["line"] for r in rows] == [1, 3]
    assert rows[0]["label"] == "positive" and "delivery" in rows[0]["topics"]
    assert rows[1]["text"] == "<script>alert(1)</script> slecht"  # given as is


def test_cli_names_file_and_line_of_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"goed\nbad \xff byte\n")
    run = _cli("voice", "score", "--text-file", str(path))
    assert run.returncode == 2
    assert f"{path}:2:5" in run.stderr
    missing = _cli("voice", "score", "--text-file", str(tmp_path / "missing.txt"))
    assert missing.returncode == 2 and "missing.txt" in missing.stderr


def test_too_short_to_tell_still_gets_a_sentiment() -> None:
    good, bad = VoiceScorer().score("Top!"), VoiceScorer().score("Kapot")
    assert good.language == bad.language == "und"
    assert good.label == "positive" and bad.label == "negative"
