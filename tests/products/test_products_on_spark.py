"""Products, returns and search give the same answer on Spark as on DuckDB.

The model is built once on DuckDB (a small simulated shop with its catalogue); its tables are
handed to a Spark session and each analysis runs over both engines (`measure_*`: the runner
without the model build, which Spark reads from Parquet in production).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import klantreis
from klantreis.collect.catalogue import store_products
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.filters import Cut
from klantreis.measure.products.analysis import measure_content
from klantreis.measure.products.completeness import load_rules
from klantreis.measure.returns import measure_returns
from klantreis.measure.search import measure_search
from klantreis.model import ensure_built
from klantreis.store.query import Query

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ANALYSES = {
    "returns": lambda engine: measure_returns(engine, start="2026-02-01").as_json(),
    "search": lambda engine: measure_search(engine, limit=1000, end="2026-05-01").as_json(),
    "products": lambda engine: measure_content(
        engine, load_rules(), "low_review", Cut.parse("2026-01-15")
    ).as_json(),
}


def _plain(value: Any) -> Any:
    """Numbers to 6 digits (engines differ in the last bits of a regression's p-value and in
    decimal against float), containers recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (float, Decimal)) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else round(number, 6)
    return value


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("pyspark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    path: Path = tmp_path_factory.mktemp("spark-products") / "shop.duckdb"
    shop = simulate(SimulatorConfig(persons=60, seed=3))
    with klantreis.open(path) as kr:
        kr.store.append(shop.events)
        store_products(kr.store, shop.products, source="demo")
        ensure_built(kr)
        spark = SparkEngine(
            engine_session(
                SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
            )
        )
        try:
            for name in ("journey_events", "sessions", "products"):
                spark.register_arrow(name, kr.engine.fetch(Query(f'SELECT * FROM "{name}"')))
            yield kr.engine, spark
        finally:
            spark.close()


@pytest.mark.parametrize("analysis", sorted(ANALYSES))
def test_same_answer_on_spark(engines, analysis: str) -> None:
    duck, spark = engines
    on_duckdb = json.loads(json.dumps(_plain(ANALYSES[analysis](duck)), default=str))
    on_spark = json.loads(json.dumps(_plain(ANALYSES[analysis](spark)), default=str))
    assert on_duckdb == on_spark
    # not vacuous: the small shop has rows for every part compared
    key = {"returns": "after_return", "search": "failing_terms", "products": "fix_first"}
    assert on_duckdb[key[analysis]], analysis
