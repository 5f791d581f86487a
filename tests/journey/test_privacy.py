"""Export and erasure reach every table a person is stored in."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.privacy import erase_person, export_person


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    handle.store.append(
        story(
            {
                "anon-7": [("Product Viewed", "09:00", {"anonymous": True})],
                "dirk": [
                    (
                        "Identify",
                        "09:01",
                        {
                            "type": "identify",
                            "anonymous_id": "anon-7",
                            "traits": {"email": "dirk@example.nl"},
                        },
                    ),
                    ("Order Completed", "09:05", {"properties": {"order_id": "D1"}}),
                ],
                "eva": [("Order Completed", "10:00", {"properties": {"order_id": "E1"}})],
            }
        )
    )
    handle.store.quarantine(
        [
            {
                "source": "test",
                "file": "x.csv",
                "line": 3,
                "column_name": "timestamp",
                "reason": "bad timestamp",
                "raw": '{"userId": "dirk", "timestamp": "nope"}',
            },
            {
                "source": "test",
                "file": "x.csv",
                "line": 4,
                "column_name": "timestamp",
                "reason": "bad timestamp",
                "raw": '{"userId": "eva", "timestamp": "nope"}',
            },
        ]
    )
    handle.journey_map()  # builds the derived tables
    yield handle
    handle.close()


def test_export_by_anonymous_id_finds_the_whole_person(kr):
    data = export_person(kr.store, "anon-7")
    assert data["person_ids"] == ["dirk"]
    assert len(data["tables"]["events"]) == 3
    assert len(data["tables"]["quarantine"]) == 1
    assert {r["person_id"] for r in data["tables"]["journey_events"]} == {"dirk"}


def test_erase_leaves_nothing_behind_and_keeps_others(kr):
    removed = erase_person(kr.store, "dirk")
    assert removed["events"] == 3
    assert removed["quarantine"] == 1
    assert removed["journey_events"] == 2
    raw = kr.store.connection.execute(
        "SELECT count(*) FROM events WHERE user_id = 'dirk' OR anonymous_id = 'anon-7'"
    ).fetchall()[0][0]
    assert raw == 0
    for table in ("identities", "persons", "journey_events", "journeys", "sessions"):
        left = kr.store.connection.execute(
            f"SELECT count(*) FROM {table} WHERE person_id = 'dirk'"
        ).fetchall()[0][0]
        assert left == 0, table
    assert export_person(kr.store, "dirk")["tables"] == {}
    # others untouched, and the model rebuilds without dirk
    journey_map = kr.journey_map()
    assert journey_map.totals["persons"] == 1
    assert len(export_person(kr.store, "eva")["tables"]["quarantine"]) == 1


def test_erasure_reaches_collector_events_not_merged_yet(tmp_path: Path) -> None:
    """Acknowledged collector events wait in `events_staged` for up to a second; an erasure
    in that second must not miss them, nor may a later merge bring them back."""
    handle = klantreis.open(tmp_path / "staged.duckdb")
    try:
        staged = story({"femke": [("Product Viewed", "09:00"), ("Order Completed", "09:10")]})
        handle.store.stage(staged)
        assert "events_staged" in export_person(handle.store, "femke")["tables"]
        removed = erase_person(handle.store, "femke")
        assert removed["events_staged"] == 2
        handle.store.merge_staged()
        count = handle.store.connection.execute(
            "SELECT count(*) FROM events WHERE user_id = 'femke'"
        ).fetchone()[0]
        assert count == 0
    finally:
        handle.close()
