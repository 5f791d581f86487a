"""The uncut map is stored whole and read back while nothing it rests on changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.measure.voice.stored import update_voice
from klantreis.model.as_built import as_built
from klantreis.privacy import erase_person

EVENTS = {
    "anna": [
        ("Products Searched", "09:00"),
        ("Product Viewed", "09:05"),
        ("Order Completed", "09:25", {"properties": {"order_id": "A1"}}),
        (
            "Review Submitted",
            "2026-03-05T10:00",
            {"properties": {"order_id": "A1", "rating": 1, "text": "Late and broken, awful."}},
        ),
    ],
    "bram": [("Products Searched", "11:00"), ("Product Viewed", "11:10")],
}


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    handle.store.append(story(EVENTS))
    yield handle
    handle.close()


def _mark(kr) -> None:
    """Change the stored maps' text, so a map that reads them back can be told apart."""
    with kr.store.write_lock:
        kr.store.connection.execute(
            'UPDATE journey_maps SET map = replace(map, \'"definition_label": "Six phases"\', '
            '\'"definition_label": "stored"\')'
        )


def test_a_map_is_stored_and_read_back_the_same(kr) -> None:
    computed = kr.journey_map().to_dict()
    assert kr.engine.scalar("SELECT count(*) FROM journey_maps") == 1
    assert kr.journey_map().to_dict() == computed
    _mark(kr)
    assert kr.journey_map().definition_label == "stored"  # read, not computed
    assert kr.journey_map(language="nl").definition_label != "stored"  # per language
    assert kr.journey_map(persona=None, start="2020-01-01").definition_label != "stored"


def test_new_events_scores_and_cases_make_it_compute_again(kr) -> None:
    kr.journey_map()
    _mark(kr)
    update_voice(kr.store, kr.engine, retrain=False)
    assert kr.journey_map().definition_label != "stored"  # new scores
    _mark(kr)
    kr.store.append(story({"cleo": [("Product Viewed", "12:00")]}))
    fresh = kr.journey_map()
    assert fresh.definition_label != "stored"  # new events, a new model
    assert fresh.totals["persons"] == 3


def test_a_page_reads_the_last_stored_map_as_it_is(kr) -> None:
    kr.journey_map()
    _mark(kr)
    kr.store.append(story({"cleo": [("Product Viewed", "12:00")]}))
    with as_built():
        assert kr.journey_map().definition_label == "stored"


def test_erasure_removes_the_stored_maps(kr) -> None:
    kr.journey_map()
    erase_person(kr.store, "anna")
    assert kr.engine.scalar("SELECT count(*) FROM journey_maps") == 0


def test_a_page_asking_a_definition_first_stores_its_map(kr) -> None:
    """The routine keeps current the maps of the definitions someone asked for."""
    from klantreis.measure.journey_map.stored import stored_definitions

    kr.journey_map()
    assert stored_definitions(kr) == ["six-phase"]
    with as_built():
        kr.journey_map("aida")
    assert stored_definitions(kr) == ["aida", "six-phase"]
