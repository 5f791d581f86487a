"""Every word of the product's vocabulary has a Dutch and a Danish name, in one catalogue."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from klantreis.collect.vocabulary import CHANNELS, EVENTS
from klantreis.measure.expectations.rules import CATEGORIES
from klantreis.measure.personas.description import NAMES, slug
from klantreis.model.definition import builtin_definitions, load_definition
from klantreis.present.web.mapview import OUTCOMES
from klantreis.present.web.terms import (
    catalogue,
    detail,
    margin,
    opportunity,
    persona,
    reason,
    term,
)


def vocabulary() -> dict[str, set[str]]:
    """Each kind's keys, read from where the product defines them (not from the catalogue)."""
    topics = yaml.safe_load(
        (resources.files("klantreis.measure.voice") / "topics.yaml").read_text("utf-8")
    )["topics"]
    rules = yaml.safe_load(
        (resources.files("klantreis.measure.expectations") / "defaults.yaml").read_text("utf-8")
    )["expectations"]
    definitions = [load_definition(name) for name in builtin_definitions()]
    from klantreis.measure.voice.analyses import OTHER

    return {
        "event": set(EVENTS),
        "channel": set(CHANNELS),
        "phase": {p.id for d in definitions for p in d.phases},
        "touchpoint": {t.id for d in definitions for t in d.touchpoints} | {"other"},
        "topic": set(topics) | {OTHER},
        "category": set(CATEGORIES),
        "expectation": {r["id"] for r in rules},
        "outcome": set(OUTCOMES),
        "persona": set(NAMES.values()),
    }


def untranslated(words: dict[str, set[str]], lang: str) -> list[str]:
    known = catalogue()
    return sorted(
        f"{kind}: {key}"
        for kind, keys in words.items()
        for key in keys
        if not known.get(kind, {}).get(key, {}).get(lang)
    )


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_every_vocabulary_item_has_a_translation(lang: str) -> None:
    missing = untranslated(vocabulary(), lang)
    assert not missing, f"no {lang} name for: {missing} (add it to present/web/locale/terms.yaml)"


def test_a_new_event_without_translation_is_caught() -> None:
    # The check above must see a name that only the vocabulary knows, or it proves nothing.
    words = vocabulary()
    words["event"] = words["event"] | {"Gift Card Redeemed"}
    assert untranslated(words, "nl") == ["event: Gift Card Redeemed"]
    assert len(words["event"]) > 50 and len(words["topic"]) >= 10


def test_words_a_shop_owner_would_use() -> None:
    assert term("event", "Order Completed", "nl") == "Bestelling geplaatst"
    assert term("event", "Order Completed", "da") == "Ordre afgivet"
    assert term("event", "Order Completed", "en") == "Order Completed"
    assert term("phase", "service", "nl") == "Gebruik & service"
    assert term("touchpoint", "product page", "da") == "Produktside"
    assert term("topic", "delivery", "nl") == "levering"
    assert term("expectation", "delivery_promise_kept", "nl") == "Geleverd op de beloofde datum"
    assert term("expectation", "delivery_promise_kept", "en") == "Delivered by the promised date"
    assert term("category", "speed", "da") == "hastighed"
    # A shop's own event is shown as it was sent.
    assert term("event", "Gift Card Redeemed", "nl") == "Gift Card Redeemed"


def test_reasons_margins_and_opportunities_are_sentences_of_the_language() -> None:
    assert (
        reason("no 'Ticket Created', 'Ticket Replied' events", "nl")
        == "nog geen gebeurtenissen ‘Vraag gesteld’ of ‘Vraag beantwoord’"
    )
    assert reason("no cases to judge yet", "da") == "endnu ingen tilfælde at vurdere"
    assert margin("early by 1d", "nl") == "1 dag eerder"
    assert margin("within 5m", "da") == "inden for 5 minutter"
    assert margin("at most 1000 ms", "nl") == "hoogstens 1000 ms"
    assert opportunity("Customers mention delivery", "da") == "Kunder nævner levering"
    assert opportunity("Delivered by the promised date", "nl") == "Geleverd op de beloofde datum"
    assert (
        opportunity("No search in the journey", "nl")
        == "Geen contactmoment ‘Zoeken’ in de klantreis"
    )
    assert opportunity("Something else entirely", "nl") == "Something else entirely"
    assert detail("late", "da") == "for sent"
    assert detail("Payment Failed", "nl") == "Betaling mislukt"
    assert detail("Products Searched: results eq 0", "nl") == "Producten gezocht: results eq 0"
    assert detail(42, "nl") == "42"


def test_a_discovered_persona_is_named_in_the_readers_language() -> None:
    # discovery stores the English name and uses its slug as the persona's id
    assert persona("Quick deciders", "nl") == "Snelle beslissers"
    assert persona(slug("Quick deciders"), "da") == "Hurtige beslutningstagere"
    assert persona("Group 3", "nl") == "Groep 3" and persona("group-2", "da") == "Gruppe 2"
    assert persona("Quick deciders", "en") == "Quick deciders"
    # a name the shop gave is its own
    assert persona("Our VIPs", "nl") == "Our VIPs"


def test_a_persona_is_offered_in_the_readers_words_and_numbers() -> None:
    """The persona selectors (map, expectations, voice, funnels) name each group as
    `klantreis personas` named it, in the reader's language, with its size as they write it."""
    from klantreis.present.web.i18n import Lang
    from klantreis.present.web.routes.journey_map import persona_label

    assert persona_label("Quick deciders", 1439, Lang("nl")) == "Snelle beslissers (1.439)"
    assert persona_label("Quick deciders", 1439, Lang("da")) == "Hurtige beslutningstagere (1.439)"
    assert persona_label("Quick deciders", 1439, Lang("en")) == "Quick deciders (1,439)"
    assert persona("Group 3", "nl") == "Groep 3" and persona("Group 3", "da") == "Gruppe 3"
    assert persona("Group 3", "en") == "Group 3"
    # a name the shop gave its segment stays as it is
    assert persona("Business customers", "nl") == "Business customers"
