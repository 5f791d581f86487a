"""Paths on every engine: after a start, before an end, between two events, collapsed repeats."""

from __future__ import annotations

import random
from typing import Any

import pytest
from journeys import PHASES, journeys_for

from klantreis.measure.paths import run_paths
from klantreis.measure.trees import AnalysisError

PEOPLE = {
    "anna": [
        ("Products Searched", 0),
        ("Product Viewed", 1),
        ("Product Viewed", 2),  # repeat: collapsed
        ("Product Added", 3),
        ("Order Completed", 4),
    ],
    "bram": [("Products Searched", 0), ("Product Viewed", 1), ("Product Added", 2)],
    "cees": [
        ("Product Viewed", 0),
        ("Products Searched", 1),
        ("Product Viewed", 2, {"session": "s2"}),
    ],
}


def test_paths_after_a_start_event(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    result = run_paths(engine, start_event="Products Searched", steps=3)
    got = {r["path"]: r["persons"] for r in result.paths.to_pylist()}
    assert got == {"search → product page → cart": 2, "search": 1}
    assert result.persons == 3
    assert result.paths.to_pylist()[0]["share"] == pytest.approx(2 / 3)


def test_paths_not_split_by_session_cross_sessions(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    result = run_paths(engine, start_event="Products Searched", steps=3, split_by_session=False)
    got = {r["path"]: r["persons"] for r in result.paths.to_pylist()}
    assert got == {"search → product page → cart": 2, "search → product page": 1}


def test_paths_before_an_end_event(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    result = run_paths(engine, end_event="Order Completed", steps=3, by="event")
    assert [r["path"] for r in result.paths.to_pylist()] == [
        "Product Viewed → Product Added → Order Completed"
    ]


def test_paths_between_two_events(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    result = run_paths(
        engine, start_event="Product Viewed", end_event="Product Added", steps=5, by="event"
    )
    got = {r["path"]: r["persons"] for r in result.paths.to_pylist()}
    assert got == {"Product Viewed → Product Added": 2}


def test_sankey_edges(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    edges = run_paths(engine, start_event="Products Searched", steps=3).edges.to_pylist()
    got = {(e["source_step"], e["source"], e["target"]): e["persons"] for e in edges}
    assert got == {(1, "search", "product page"): 2, (2, "product page", "cart"): 2}


def test_bad_options_are_named():
    with pytest.raises(AnalysisError, match="steps"):
        run_paths(None, steps=0)  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="by"):
        run_paths(None, by="colour")  # type: ignore[arg-type]


def _many_people(count: int) -> dict[str, list[tuple[Any, ...]]]:
    """`count` persons with random sessions of random events (some repeated): enough for
    many different paths, ties among them and persons with several sessions."""
    names = list(PHASES)
    chosen = random.Random(7)
    people: dict[str, list[tuple[Any, ...]]] = {}
    for p in range(count):
        events: list[tuple[Any, ...]] = []
        minute = 0
        for session in range(chosen.randint(1, 3)):
            for _ in range(chosen.randint(1, 7)):
                minute += chosen.randint(1, 5)
                events.append((chosen.choice(names), minute, {"session": f"s{session}"}))
            minute += 120
        people[f"p{p:03d}"] = events
    return people


PART_ROWS = {"duckdb": 97, "spark": 300}
"""Events per part of `_many_people(120)`'s 824: 9 parts on DuckDB, 3 on Spark, where every
part is a Spark job of its own (seconds each) and the adding up of the parts is the same Python
as on DuckDB."""


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"start_event": "Product Viewed", "steps": 4},
        {"end_event": "Order Completed", "by": "event"},
        {"start_event": "Products Searched", "end_event": "Order Completed", "steps": 6},
        {"split_by_session": False, "steps": 3, "top": 7},
    ],
)
def test_paths_counted_in_parts_are_those_of_one_query(load, options):
    """Over many events the persons are counted part by part (bounded memory at 10M): every
    path, persons, sessions, share, edge and the total are those of one query."""
    engine = load({"journey_events": journeys_for(_many_people(120))})
    whole = run_paths(engine, **options)
    parted = run_paths(engine, part_rows=PART_ROWS[engine.capabilities.name], **options)
    assert parted.persons == whole.persons > 0
    assert parted.paths.to_pylist() == whole.paths.to_pylist()
    assert parted.edges.to_pylist() == whole.edges.to_pylist()
    assert whole.paths.num_rows > 1
