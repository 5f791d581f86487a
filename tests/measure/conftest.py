"""One analytics suite, every engine: DuckDB always, Spark in the same run (marked spark+slow).

`load(tables)` puts Arrow tables (e.g. from `journeys_for`) into a fresh engine and returns it.
The Spark session is started once per test session and shared.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from klantreis.store.engines.base import Engine
from klantreis.store.engines.duckdb import DuckDBEngine

Loader = Callable[[dict[str, pa.Table]], Engine]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    pytest.importorskip("pyspark")
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session as make

    yield make(SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g"))


def _duckdb_loader() -> Iterator[Loader]:
    connections: list[duckdb.DuckDBPyConnection] = []

    def load(tables: dict[str, pa.Table]) -> Engine:
        con = duckdb.connect()
        connections.append(con)
        for name, table in tables.items():
            con.register("_incoming", table)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
        return DuckDBEngine(con)

    yield load
    for con in connections:
        con.close()


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]),
    ]
)
def load(request: pytest.FixtureRequest) -> Iterator[Loader]:
    """A loader for the engine under test."""
    if request.param == "duckdb":
        yield from _duckdb_loader()
        return
    session = request.getfixturevalue("spark_session")
    from klantreis.store.engines.spark import SparkEngine

    engines: list[SparkEngine] = []

    def load(tables: dict[str, pa.Table]) -> Engine:
        for view in session.catalog.listTables():  # type: ignore[attr-defined]
            if view.isTemporary:
                session.catalog.dropTempView(view.name)  # type: ignore[attr-defined]
        engine = SparkEngine(session)
        for name, table in tables.items():
            engine.register_arrow(name, table)
        engines.append(engine)
        return engine

    yield load
    for engine in engines:
        engine.close()


@pytest.fixture
def load_duckdb() -> Iterator[Loader]:
    """DuckDB only: for property tests that compare with chDB many times."""
    yield from _duckdb_loader()
