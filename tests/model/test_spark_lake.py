"""Spark reads a lake where collectors wrote it (repeats included) and writes the model back
into it; the next process reads that model instead of building it again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from engine_rows import comparable_rows

from klantreis.api import Klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.config import Settings
from klantreis.model import build, ensure_built, load_definition
from klantreis.store.engines.duckdb import DuckDBEngine
from klantreis.store.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.slow]

OPTIONS = {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "2g"}


def _lake_with_repeats(path: Path, events: pa.Table) -> Lake:
    """The events as three collectors' files; every tenth event sent again a minute later."""
    lake = Lake(path)
    third = events.num_rows // 3
    for start in (0, third, 2 * third):
        lake.append(events.slice(start, third if start < 2 * third else None))
    retried = events.take(list(range(0, events.num_rows, 10)))
    later = pc.add(retried["received_at"], pa.scalar(timedelta(minutes=1)))
    at = retried.schema.get_field_index("received_at")
    lake.append(retried.set_column(at, "received_at", later))
    return lake


def test_model_on_spark_over_a_lake_is_duckdbs_and_is_read_back_by_the_next_process(tmp_path):
    pytest.importorskip("pyspark")
    events = simulate(SimulatorConfig(persons=30, days=30, seed=5, visitors_per_person=1)).events
    lake = _lake_with_repeats(tmp_path / "lake", events)
    assert sum(1 for _ in lake.live_files()) > 4

    con = duckdb.connect()
    con.register("_incoming", events)
    con.execute("CREATE TABLE events AS SELECT * FROM _incoming")
    duck = DuckDBEngine(con)
    expected = build(duck, load_definition("six-phase"))

    options = {**OPTIONS, "events_path": str(lake.path), "tables_path": str(lake.path / "tables")}
    settings = Settings(tmp_path / "state.duckdb", "spark", options, {})
    kr = Klantreis(settings)
    try:
        assert kr.engine.scalar("SELECT count(*) FROM events") == events.num_rows
        assert ensure_built(kr) is True
        for name in ("journey_events", "sessions", "journeys", "persons", "identities"):
            assert comparable_rows(kr.engine.fetch(f"SELECT * FROM {name}")) == comparable_rows(
                duck.fetch(f"SELECT * FROM {name}")
            ), name
            assert (lake.path / "tables" / name / "_current").exists()
        assert kr.engine.scalar("SELECT count(*) FROM persons") == expected.persons
    finally:
        kr.close()

    again = Klantreis(settings)  # another process: a dashboard, `klantreis map`
    try:
        assert ensure_built(again) is False  # the stored model is current
        assert again.engine.scalar("SELECT count(*) FROM journeys") == expected.journeys
    finally:
        again.close()

    lake.append(events.slice(0, 1).set_column(0, "message_id", pa.array(["new-one"])))
    fresh = Klantreis(settings)
    try:
        assert ensure_built(fresh) is True  # a new file in the lake: built again
        assert fresh.engine.scalar("SELECT count(*) FROM events") == events.num_rows + 1
    finally:
        fresh.close()


def test_spark_reads_the_lakes_catalogue_once_per_product_its_latest_import(tmp_path):
    pytest.importorskip("pyspark")
    from datetime import datetime

    from klantreis.collect.catalogue.table import PRODUCT_SCHEMA

    def catalogue(prices: dict[str, float], hour: int) -> pa.Table:
        at = datetime(2026, 3, 1, hour)
        rows = [{"product_id": p, "price": v, "imported_at": at} for p, v in prices.items()]
        return pa.Table.from_pylist(rows, schema=PRODUCT_SCHEMA)

    events = simulate(SimulatorConfig(persons=3, days=5, seed=5, visitors_per_person=0)).events
    lake = Lake(tmp_path / "lake")
    lake.append(events)
    lake.append_products(catalogue({"p1": 10.0, "p2": 20.0}, 9))
    lake.append_products(catalogue({"p2": 25.0}, 11))  # imported again, a newer price
    options = {**OPTIONS, "events_path": str(lake.path)}
    kr = Klantreis(Settings(tmp_path / "state.duckdb", "spark", options, {}))
    try:
        rows = kr.engine.fetch("SELECT product_id, price FROM products ORDER BY product_id")
        assert rows.to_pylist() == [
            {"product_id": "p1", "price": 10.0},
            {"product_id": "p2", "price": 25.0},
        ]
    finally:
        kr.close()
