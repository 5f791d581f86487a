"""On Spark over a lake the uncut map is stored with the model's tables: the next process
(`klantreis map`, a dashboard) reads it instead of running the map's queries again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stories import story
from test_stored_map import EVENTS

from klantreis.api import Klantreis
from klantreis.config import Settings
from klantreis.measure.journey_map.stored import stored_at
from klantreis.store.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.slow]

OPTIONS = {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "2g"}
CALLS = ("fetch", "execute", "create_table_as", "create_table_mapped", "create_table_from_arrow")


def _queries(kr: Klantreis) -> list[str]:
    """The SQL of every call into the engine from now on, in a list that grows."""
    seen: list[str] = []
    engine = kr.engine
    for name in CALLS:
        call = getattr(engine, name)

        def counted(*args: Any, _call: Any = call, **kwargs: Any) -> Any:
            first = args[0] if args else ""
            seen.append(first if isinstance(first, str) else first.sql())
            return _call(*args, **kwargs)

        setattr(engine, name, counted)
    return seen


def _map_queries(seen: list[str]) -> list[str]:
    """The queries that compute a map: each reads the model's journey events."""
    return [q for q in seen if "journey_events" in q]


def test_the_next_process_reads_the_stored_map_until_the_events_change(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    lake = Lake(tmp_path / "lake")
    lake.append(story(EVENTS))
    options = {**OPTIONS, "events_path": str(lake.path), "tables_path": str(lake.path / "tables")}
    settings = Settings(tmp_path / "state.duckdb", "spark", options, {})

    first = Klantreis(settings)
    try:
        computed = first.journey_map()
        assert computed.errors == []
        assert (lake.path / "tables" / "journey_maps" / "_current").exists()
    finally:
        first.close()

    again = Klantreis(settings)  # another process: `klantreis map`, a dashboard
    try:
        seen = _queries(again)
        assert again.journey_map().to_dict() == computed.to_dict()
        assert _map_queries(seen) == []  # read back, not computed
        assert stored_at(again, "six-phase", "en") is not None
    finally:
        again.close()

    lake.append(story({"cleo": [("Product Viewed", "12:00")]}))
    fresh = Klantreis(settings)  # new events: a new model, so a new map
    try:
        seen = _queries(fresh)
        assert fresh.journey_map().totals["persons"] == 3
        assert _map_queries(seen)
    finally:
        fresh.close()
