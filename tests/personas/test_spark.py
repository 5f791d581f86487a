"""The persona, opportunity and recommendation queries give the same answer on Spark."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlglot import exp
from stories import story

import klantreis
from klantreis.collect.vocabulary import BACK_OFFICE_EVENTS
from klantreis.measure import conversion
from klantreis.measure.opportunities import BREACHED, ORDERS, TOUCHED
from klantreis.measure.personas.features import PERSON_FEATURES
from klantreis.measure.recommend import _RECOMMEND
from klantreis.measure.value.table import SUMMARY
from klantreis.model import ensure_built
from klantreis.model.definition import load_definition
from klantreis.model.journey_events import _WIDE, _about_an_order
from klantreis.store.query import Query

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _products(*ids: str) -> dict:
    return {"products": [{"product_id": i, "category": "toys", "price": 10} for i in ids]}


STORY = {
    "anna": [
        ("Products Searched", "09:00", {"properties": {"query": "lego"}}),
        ("Product List Filtered", "09:01"),
        ("Product Viewed", "09:02", {"properties": {"product_id": "p1"}}),
        (
            "Order Completed",
            "09:30",
            {
                "properties": {
                    "order_id": "a1",
                    "total": 30,
                    "region": "SP",
                    "promised_delivery_date": "2026-03-05T00:00:00",
                    **_products("p1", "p2"),
                }
            },
        ),
        ("Order Delivered", "2026-03-07T12:00", {"properties": {"order_id": "a1"}}),
        ("Review Submitted", "2026-03-08T12:00", {"properties": {"order_id": "a1", "rating": 2}}),
    ],
    "bram": [
        ("Product Viewed", "10:00", {"channel": "app", "properties": {"product_id": "p1"}}),
        (
            "Order Completed",
            "10:05",
            {
                "properties": {
                    "order_id": "b1",
                    "total": 12.5,
                    "region": "RJ",
                    "promised_delivery_date": "2026-03-05T00:00:00",
                    **_products("p1", "p3"),
                }
            },
        ),
        ("Order Delivered", "2026-03-04T12:00", {"properties": {"order_id": "b1"}}),
        ("Review Submitted", "2026-03-05T12:00", {"properties": {"order_id": "b1", "rating": 5}}),
    ],
}


def _rows(table, key: str) -> list[tuple]:
    def plain(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, datetime):  # Spark hands back UTC-aware, DuckDB naive UTC
            return value.replace(tzinfo=None)
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return round(float(value), 6)
        return value

    rows = [tuple(plain(v) for v in row.values()) for row in table.to_pylist()]
    at = table.column_names.index(key)
    return sorted(rows, key=lambda r: (str(r[at]), str(r)))


RECOMMEND = Query(_RECOMMEND, persons=("anna",), n=10, before=None)
JOURNEY_EVENTS = Query(
    _WIDE,
    purchase_event="Order Completed",
    purchase_index=3,
    gap_us=1_800_000_000,
    back_office=list(BACK_OFFICE_EVENTS),
    **_about_an_order(load_definition("six-phase")),
)
BREACHES = """
SELECT * FROM (VALUES
    ('late', 'b1', NULL, 'service', TIMESTAMP '2026-03-07 12:00:00'),
    ('slow_site', NULL, 'anna:j1', 'orientation', TIMESTAMP '2026-03-02 09:01:00'))
    AS t(expectation_id, order_id, journey_id, phase, breached_at)
"""


@pytest.mark.parametrize(
    "which",
    [
        "features",
        "orders",
        "recommend",
        "journey_events",
        "breached",
        "touched",
        "value_summary",
        "conversion_journeys",
        "conversion_breached",
        "conversion_touched",
    ],
)
def test_queries_agree_between_duckdb_and_spark(tmp_path: Path, which: str):
    pytest.importorskip("pyspark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session

    with klantreis.open(tmp_path / "shop.duckdb") as kr:
        kr.store.append(story(STORY))
        ensure_built(kr)
        query, key = {
            "features": (PERSON_FEATURES, "person_id"),
            "orders": (Query(ORDERS, repeat_seconds=90 * 86400), "order_id"),
            "recommend": (RECOMMEND, "product_id"),
            "journey_events": (JOURNEY_EVENTS, "message_id"),
            "breached": (Query(BREACHED), "order_id"),
            "touched": (Query(TOUCHED), "order_id"),
            "value_summary": (
                Query(SUMMARY, purchase_event="Order Completed", as_of=datetime(2026, 3, 9)),
                "person_id",
            ),
            "conversion_journeys": (
                Query(conversion.JOURNEYS, modulus=1, cut=exp.true(), purchase_index=3),
                "journey_id",
            ),
            "conversion_breached": (Query(conversion.BREACHED), "journey_id"),
            "conversion_touched": (
                Query(conversion.TOUCHED, purchase_index=3),
                "journey_id",
            ),
        }[which]
        kr.engine.create_table_as("breaches", BREACHES)
        session = spark_session(
            SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
        )
        spark = SparkEngine(session)
        try:
            for name in (
                "events",
                "persons",
                "journey_events",
                "sessions",
                "journeys",
                "identities",
                "phase_map",
                "order_channels",
                "breaches",
            ):
                spark.register_arrow(name, kr.engine.fetch(Query(f'SELECT * FROM "{name}"')))
            on_duckdb = _rows(kr.engine.fetch(query), key)
            assert on_duckdb, query
            assert on_duckdb == _rows(spark.fetch(query), key), query.sql("spark")
        finally:
            spark.close()
