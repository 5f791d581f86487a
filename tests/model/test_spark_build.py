"""The model built on Spark is the model built on DuckDB, table by table, on a simulated shop.

And the build's plans stay small: each derived table is a scan of its rows, not the plan of
every table below it (what filled a 4 GB driver on the 2,000-person demo).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from engine_rows import comparable_rows

from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.model import build, load_definition
from klantreis.store.engines.duckdb import DuckDBEngine
from klantreis.store.schema import TABLES

MODEL_BUILDS = {
    *("identities", "identity_quarantine", "identity_nodes", "identity_emails", "identity_links"),
    *("phase_map", "order_channels", "journey_events", "sessions", "journeys", "persons"),
}
"""Every table `model.build` makes (a refresh adds `refreshed_persons`)."""

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MODEL_TABLES = [
    name
    for name, spec in TABLES.items()
    if spec.derived and name != "refreshed_persons" and spec.name in MODEL_BUILDS
]


@pytest.fixture(scope="module")
def events() -> pa.Table:
    shop = simulate(
        SimulatorConfig(
            persons=60,
            days=40,
            seed=11,
            visitors_per_person=2,
            family_email_share=0.1,
            shared_device_share=0.1,
        )
    )
    return shop.events


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session

    config = SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    engine = SparkEngine(spark_session(config), config)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def built(events, spark) -> tuple[DuckDBEngine, Any, list]:
    """The same events built into a model by DuckDB and by Spark (once: a build takes a minute
    on Spark local)."""
    definition = load_definition("six-phase")
    con = duckdb.connect()
    con.register("_incoming", events)
    con.execute("CREATE TABLE events AS SELECT * FROM _incoming")
    duck = DuckDBEngine(con)
    expected = build(duck, definition)
    spark.register_arrow("events", events)
    got = build(spark, definition)
    return duck, spark, [expected, got]


def test_every_model_table_agrees_between_duckdb_and_spark(built):
    duck, spark, (expected, got) = built
    assert got == expected
    assert expected.persons > 60 and expected.events > 1000  # a shop, not an empty model
    for name in MODEL_TABLES:
        want = duck.fetch(f'SELECT * FROM "{name}"')
        have = spark.fetch(f'SELECT * FROM "{name}"')
        assert have.column_names == want.column_names, name
        assert comparable_rows(have) == comparable_rows(want), name
    refused = duck.scalar("SELECT count(*) FROM identity_quarantine")
    assert refused > 0  # the shared e-mails and devices were met, and refused alike


def test_derived_tables_are_scans_of_their_rows_not_the_plans_below_them(built):
    _, spark, _ = built
    plan = spark.session.table("persons")._jdf.queryExecution().optimizedPlan().toString()
    # With cache() the persons plan held identities, journey events, labels and events again.
    assert "Join" not in plan and "Aggregate" not in plan, plan[:2000]
    assert len(plan) < 2000, len(plan)


def test_work_tables_are_dropped_after_the_build(built):
    _, spark, _ = built
    views = {t.name for t in spark.session.catalog.listTables() if t.isTemporary}
    assert not {v for v in views if v.startswith("_kr_")}, views
    assert not {name for name in spark._cached if name.startswith("_kr_")}


def test_quiet_of_just_over_thirty_minutes_ends_a_session_on_both_engines(spark):
    """30:00.2 of quiet: DuckDB's date_diff counted 1801 second boundaries, Spark 1800 whole
    seconds, so the engines disagreed; measured in microseconds both see a new session."""
    from stories import event_row

    from klantreis.store.schema import EVENT_ARROW_SCHEMA

    times = [
        datetime(2026, 3, 2, 10, 0, 0, 900_000),
        datetime(2026, 3, 2, 10, 30, 1, 100_000),  # 30:00.2 later: a new session
        datetime(2026, 3, 2, 11, 0, 1, 50_000),  # 29:59.95 later: the same session
    ]
    rows = [event_row("anna", "Product Viewed", at, seq=i) for i, at in enumerate(times)]
    events = pa.Table.from_pylist(rows, schema=EVENT_ARROW_SCHEMA)
    con = duckdb.connect()
    con.register("_incoming", events)
    con.execute("CREATE TABLE events AS SELECT * FROM _incoming")
    duck = DuckDBEngine(con)
    build(duck, load_definition("six-phase"))
    spark.register_arrow("events", events)
    build(spark, load_definition("six-phase"))
    query = "SELECT session_id, events FROM sessions ORDER BY session_id"
    assert duck.rows(query) == [
        {"session_id": "anna:s1", "events": 1},
        {"session_id": "anna:s2", "events": 2},
    ]
    assert spark.rows(query) == duck.rows(query)


def test_journey_events_read_the_events_once(built):
    """The journey of an event naming an order was joined from the same rows' purchases,
    which Spark computed by scanning, joining, shuffling and sorting every event a second
    time, then shuffled the wide rows again by order to join them."""
    from klantreis.model.build import SESSION_GAP_MINUTES
    from klantreis.model.journey_events import journey_events_query

    _, spark, _ = built
    query = journey_events_query(
        load_definition("six-phase"), session_gap_minutes=SESSION_GAP_MINUTES
    )
    plan = spark.session.sql(spark.sql(query))._jdf.queryExecution().executedPlan().toString()
    scans = re.findall(r"(?:Scan ExistingRDD|LocalTableScan) ?\[message_id#", plan)
    assert len(scans) == 1, plan  # `events`, however the test registered them
    assert plan.count("Exchange hashpartitioning(person_id") == 1, plan  # to the windows
