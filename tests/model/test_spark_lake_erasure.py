"""Erasure reaches the model Spark wrote back into a lake (`[engine] tables_path`), and Spark
reads the rewritten tables and events as it read them before."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from klantreis.api import Klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.config import Settings
from klantreis.model import ensure_built
from klantreis.privacy import erase_persons
from klantreis.store import Store
from klantreis.store.engines.spark.lake import Shelf
from klantreis.store.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.slow]

OPTIONS = {"master": "local[2]", "shuffle_partitions": 2, "driver_memory": "2g"}


def _readable(path: Path) -> bytes:
    """A file's bytes and, for Parquet, its rows decoded (pages are compressed)."""
    data = path.read_bytes()
    if path.name.endswith(".parquet") and not path.name.startswith("."):
        rows = pq.ParquetFile(path, coerce_int96_timestamp_unit="us").read().to_pylist()
        data += orjson.dumps(rows, default=str)
    return data


def _spark_schema(kr: Klantreis, shelf: Shelf, name: str) -> str:
    """The table's columns and types as Spark reads them from the lake."""
    session = kr.engine.session  # type: ignore[attr-defined]
    return str(session.read.parquet(str(shelf.current(name))).schema.simpleString())


def test_erasure_rewrites_the_model_in_the_lake_and_spark_reads_it(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    events = simulate(SimulatorConfig(persons=30, days=30, seed=5, visitors_per_person=1)).events
    lake = Lake(tmp_path / "lake")
    third = events.num_rows // 3
    for start in (0, third, 2 * third):
        lake.append(events.slice(start, third if start < 2 * third else None))
    tables = tmp_path / "lake" / "tables"
    state = tmp_path / "state.duckdb"
    options = {**OPTIONS, "events_path": str(lake.path), "tables_path": str(tables)}
    sections = {"store": {"kind": "lake", "path": str(lake.path), "state": str(state)}}
    settings = Settings(state, "spark", options, sections)

    kr = Klantreis(settings)
    try:
        assert ensure_built(kr) is True
        persons = kr.engine.scalar("SELECT count(*) FROM persons")
        person = kr.engine.scalar(
            "SELECT person_id FROM identities GROUP BY person_id HAVING count(*) >= 3 "
            "ORDER BY person_id LIMIT 1"
        )
        found = kr.engine.fetch("SELECT id FROM identities WHERE person_id = :p", p=person)
        ids = {str(row["id"]) for row in found.to_pylist()}
        shelf = Shelf(tables)
        schemas = {name: _spark_schema(kr, shelf, name) for name in shelf.names()}
    finally:
        kr.close()
    mine = [r for r in events.to_pylist() if {r["user_id"], r["anonymous_id"]} & ids]
    emails = {json.loads(r["traits"] or "{}").get("email") for r in mine} - {None}
    personal = ids | {person} | {r["message_id"] for r in mine} | emails
    assert len(mine) > 10 and emails

    with Store(state) as store:  # named by one of their ids: the others are found
        removed = erase_persons(store, [sorted(ids)[0]], settings)
    assert removed["lake/events"] == len(mine)
    assert removed["lake/tables/journey_events"] and removed["lake/tables/identities"] >= 3

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {v for v in personal for p in files if v.encode() in _readable(p)} == set()
    for name in shelf.names():  # one version left of each table
        assert len(list((tables / name).glob("v-*"))) == 1, name

    again = Klantreis(settings)  # the next process reads the rewritten model, then rebuilds
    try:
        assert {name: _spark_schema(again, shelf, name) for name in shelf.names()} == schemas
        assert again.engine.scalar("SELECT count(*) FROM persons") == persons - 1
        assert ensure_built(again) is True  # the model's fingerprint was cleared
        assert again.engine.scalar("SELECT count(*) FROM persons") == persons - 1
        assert again.engine.scalar("SELECT count(*) FROM events") == events.num_rows - len(mine)
    finally:
        again.close()
