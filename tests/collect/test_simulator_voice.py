"""The simulator's phrase banks: the same shape in every language, variety, sound templates."""

from __future__ import annotations

import random
from types import ModuleType

import pytest

from klantreis.collect.simulator.voice import BANKS, Voice

NAMES = (
    "OPENERS",
    "CLOSERS",
    "SURVEY",
    "REVIEW",
    "TITLES",
    "TICKETS",
    "AGENT",
    "FOLLOWUPS",
    "CHAT_CUSTOMER",
    "CHAT_AGENT",
    "GREETINGS",
    "SIGN_OFFS",
)
VALUES = {"days": 3, "product": "Fjord Rain jacket", "order_id": "O-7-000001-01", "name": "Sanne"}


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (tuple, list)):
        return [s for item in value for s in _strings(item)]
    return []


def test_every_language_has_the_same_keys() -> None:
    shapes = {
        lang: {name: _shape(getattr(bank, name)) for name in NAMES} for lang, bank in BANKS.items()
    }
    assert shapes["nl"] == shapes["en"] == shapes["da"]


@pytest.mark.parametrize("lang", sorted(BANKS))
def test_templates_format_and_are_unique(lang: str) -> None:
    bank: ModuleType = BANKS[lang]
    texts = [t for name in NAMES for t in _strings(getattr(bank, name)) if t]
    for text in texts:
        text.format(**VALUES)
    cores = [t for topic in bank.REVIEW.values() for mood in topic.values() for t in mood]
    assert len(cores) == len(set(cores))


@pytest.mark.parametrize("lang", sorted(BANKS))
def test_several_hundred_review_combinations(lang: str) -> None:
    bank = BANKS[lang]
    combinations = sum(
        len(bank.OPENERS[mood]) * len(cores) * len(bank.CLOSERS[mood])
        for topic in bank.REVIEW.values()
        for mood, cores in topic.items()
    )
    assert combinations >= 500


def test_review_mood_follows_the_rating() -> None:
    voice = Voice("en")
    rng = random.Random(1)
    bank = BANKS["en"]
    for rating, mood in ((1, "neg"), (2, "neg"), (3, "mixed"), (4, "pos"), (5, "pos")):
        for _ in range(20):
            title, text = voice.review(rng, "delivery", rating, days=2)
            assert title in bank.TITLES["delivery"][mood]
            assert any(core.format(days=2) in text for core in bank.REVIEW["delivery"][mood])


def test_unknown_language_is_named() -> None:
    with pytest.raises(ValueError, match="language"):
        Voice("fr")
