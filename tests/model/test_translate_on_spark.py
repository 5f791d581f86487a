"""The model built in six phases, read in AIDA (`model/translate.py`), on Spark as on DuckDB.

DuckDB builds the model and judges the cases of a simulated shop; Spark is handed those tables
as they are, so what is compared is only the reading: the translated model under an analysis
with common table expressions of its own, and the cases read in AIDA (what the pain points of
an AIDA map read). Both failed on Spark before: SQLGlot lifted the translation's nested `WITH`
to the top of the statement (`DUPLICATED_CTE_NAMES: placed`), and the cases were read with
DuckDB's `c.* REPLACE (...)` (`PARSE_SYNTAX_ERROR`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from engine_rows import comparable_rows

import klantreis
from klantreis.api import Klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations.cases import cases_read_in, ensure_cases
from klantreis.model import ensure_built, load_definition
from klantreis.model.translate import translation
from klantreis.store.query import Query, tables_read_as

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MODEL = ("journey_events", "journeys", "phase_map", "expectation_cases")

_OWN_PLACED = """
WITH placed AS (
    SELECT phase, journey_id, count(*) AS events FROM journey_events GROUP BY phase, journey_id
)
SELECT phase, count(*) AS journeys, sum(events) AS events FROM placed GROUP BY phase
"""
"""An analysis with a common table expression named like one of the translation's (`placed`,
as the emotion by phase has)."""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Klantreis]:
    """A shop on DuckDB, its model built in six phases and its cases judged."""
    path: Path = tmp_path_factory.mktemp("translate_spark") / "shop.duckdb"
    kr = klantreis.open(path)
    kr.store.append(simulate(SimulatorConfig(persons=40, days=40, seed=5)).events)
    ensure_built(kr)
    ensure_cases(kr)
    try:
        yield kr
    finally:
        kr.close()


@pytest.fixture(scope="module")
def spark(shop: Klantreis) -> Iterator[Any]:
    """A Spark engine over the same model tables (the same rows: only the reading differs)."""
    pytest.importorskip("pyspark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    config = SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    engine = SparkEngine(engine_session(config), config)
    for name in MODEL:
        engine.register_arrow(name, shop.engine.fetch(f'SELECT * FROM "{name}"'))
    yield engine
    engine.close()


def _read_in_aida(engine: Any, query: Query | str) -> pa.Table:
    read = translation(engine, load_definition("six-phase"), load_definition("aida"))
    with tables_read_as(read.tables):
        return engine.fetch(query)


def test_an_analysis_with_its_own_placed_reads_the_translated_model_on_spark(shop, spark):
    want = _read_in_aida(shop.engine, _OWN_PLACED)
    have = _read_in_aida(spark, _OWN_PLACED)
    assert {r["phase"] for r in want.to_pylist()} == {"attention", "interest", "desire", "action"}
    assert comparable_rows(have) == comparable_rows(want)


def test_the_translated_journey_events_are_the_same_rows_on_spark(shop, spark):
    query = "SELECT * FROM journey_events"
    want, have = _read_in_aida(shop.engine, query), _read_in_aida(spark, query)
    assert have.column_names == want.column_names
    assert comparable_rows(have) == comparable_rows(want)


def test_the_cases_read_in_aida_are_the_same_on_spark(shop, spark):
    """What the AIDA map's pain points read: the cases judged in six phases, in AIDA."""
    answers = {}
    for name, engine in (("duckdb", shop.engine), ("spark", spark)):
        read = translation(engine, load_definition("six-phase"), load_definition("aida"))
        cases = cases_read_in(shop, read)
        with tables_read_as(read.tables):
            answers[name] = {table: engine.fetch(query) for table, query in cases.items()}
    assert answers["duckdb"]["expectation_cases"].num_rows > 10
    for table, want in answers["duckdb"].items():
        have = answers["spark"][table]
        assert have.column_names == want.column_names, table
        assert comparable_rows(have) == comparable_rows(want), table
