"""A person's timeline finds that person's rows by the index the routine keeps on
`journey_events (person_id)`, with the same entries as without it; a refresh keeps it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from stories import story

from klantreis.api import Klantreis
from klantreis.config import Settings
from klantreis.model import ensure_built
from klantreis.model.person_index import has_person_index
from klantreis.present.api.routine import DEFAULTS
from klantreis.present.web.timeline import _EVENTS, find_person, group, timeline
from klantreis.store import Store
from klantreis.store.engines.duckdb.dialect import to_duckdb
from klantreis.store.query import Query, read_as


def _scan(store: Store, person_id: str) -> str:
    """How DuckDB read `journey_events` for the timeline's query (its profile's scan type)."""
    sql = to_duckdb(read_as(Query(_EVENTS, person=person_id).tree))
    plan = str(store.connection.execute("EXPLAIN ANALYZE " + sql).fetchall()[0][1])
    return "index" if "Index Scan" in plan else "every row group"


def _model_job(kr: Klantreis) -> str | None:
    run = DEFAULTS["model"][1]
    return run(kr, FastAPI())


def _shown(store: Store, person_id: str) -> list[tuple[object, ...]]:
    profile, entries = timeline(store, person_id)
    journeys = group(store, person_id, entries)
    return [
        (j.id, j.started, [(e.at, e.what, e.journey_id, e.session_id, e.detail) for e in j.entries])
        for j in journeys
    ] + [tuple(sorted(profile.items()))]


def test_the_routine_indexes_persons_and_the_timeline_reads_by_it(store_path: Path) -> None:
    with Store(store_path) as store:
        kr = Klantreis.over(store, Settings(store_path))
        ensure_built(kr)
        anna = find_person(store, "anna")
        assert anna is not None
        before = _shown(store, anna)
        assert not has_person_index(kr) and _scan(store, anna) == "every row group"

        assert _model_job(kr) == "persons indexed"
        assert has_person_index(kr)
        assert _scan(store, anna) == "index"
        assert _shown(store, anna) == before
        assert _model_job(kr) is None  # kept: nothing to do

        # new events of hers: the refresh deletes and inserts her rows, the index follows
        store.append(story({"anna": [("Product Viewed", "10:00")]}, day=_a_month_later(before)))
        assert _model_job(kr) == "rebuilt"
        assert has_person_index(kr) and _scan(store, anna) == "index"
        after = _shown(store, anna)
        assert after != before
        seen = [what for journey in after[:-1] for (_, what, *_rest) in journey[2]]
        assert seen.count("Product Viewed") == 2


def _a_month_later(shown: list[tuple[object, ...]]) -> object:
    """A day after everything the person did (the new event is the newest)."""
    from datetime import datetime, timedelta

    latest = max(
        at
        for journey in shown[:-1]
        for (at, *_rest) in journey[2]  # type: ignore[union-attr]
        if isinstance(at, datetime)
    )
    return datetime(latest.year, latest.month, latest.day) + timedelta(days=30)
