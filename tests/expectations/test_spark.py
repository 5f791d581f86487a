"""The rule queries and the scorecard's effect query give the same answer on Spark as on DuckDB."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from stories import story

from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.compile import Context, case_query, cases_query, union_all
from klantreis.measure.expectations.scorecard import _COUNTS, _EFFECTS
from klantreis.model import load_definition
from klantreis.store.query import Query

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _story() -> dict:
    return {
        "anna": [
            ("Identify", "08:00", {"type": "identify", "traits": {"consent_marketing": True}}),
            (
                "Order Completed",
                "09:00",
                {"properties": {"order_id": "o1", "promised_delivery_date": "2026-03-05T00:00:00"}},
            ),
            ("Order Confirmation Sent", "09:02", {"properties": {"order_id": "o1"}}),
            ("Payment Captured", "09:01", {"properties": {"order_id": "o1"}}),
            ("Email Delivered", "10:00", {"properties": {"kind": "marketing"}}),
            ("Ticket Created", "10:00", {"properties": {"ticket_id": "t1", "topic": "x"}}),
            ("Ticket Created", "11:00", {"properties": {"ticket_id": "t2", "topic": "x"}}),
            ("Web Vitals Measured", "11:00", {"properties": {"lcp": 3000}}),
            ("Order Delivered", "2026-03-05T12:00:00", {"properties": {"order_id": "o1"}}),
            (
                "Review Submitted",
                "2026-03-06T12:00:00",
                {"properties": {"order_id": "o1", "rating": 2}},
            ),
        ],
        "bo": [
            (
                "Order Completed",
                "10:00",
                {"properties": {"order_id": "o2", "promised_delivery_date": "2026-03-05T00:00:00"}},
            ),
            ("Products Searched", "10:30", {"properties": {"query": "x", "results": 0}}),
            ("Email Delivered", "10:40", {"properties": {"kind": "marketing"}}),
            ("Order Delivered", "2026-03-04T12:00:00", {"properties": {"order_id": "o2"}}),
            (
                "Review Submitted",
                "2026-03-06T12:00:00",
                {"properties": {"order_id": "o2", "rating": 5}},
            ),
        ],
    }


def _rows(table, keys: list[str]) -> list[tuple]:
    """Rows sorted by `keys`, numbers as rounded floats and NaN as None (engines differ there)."""

    def plain(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return round(float(value), 6)
        return value

    rows = [tuple(plain(v) for v in row.values()) for row in table.to_pylist()]
    order = [table.column_names.index(k) for k in keys]
    return sorted(rows, key=lambda r: tuple(str(r[i]) for i in order))


def test_cases_and_effects_agree_between_duckdb_and_spark(kr):
    pytest.importorskip("pyspark")
    pytest.importorskip("klantreis.store.engines.spark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session

    kr.store.append(story(_story()))
    case_set = ensure_cases(kr)
    ctx = Context(as_of=case_set.as_of, phases=tuple(load_definition("six-phase").phase_ids))
    judged = [r for r in case_set.rules if r.id not in case_set.no_data]
    cases = union_all([case_query(r, ctx) for r in judged])
    shared = cases_query(judged, ctx)
    effects = Query(_EFFECTS, cut=Query("TRUE").tree, purchase_event="Order Completed")
    counts = Query(_COUNTS, cut=Query("TRUE").tree)

    session = spark_session(
        SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    )
    spark = SparkEngine(session)
    try:
        for name in ("events", "identities", "journey_events", "expectation_cases"):
            spark.register_arrow(name, kr.engine.fetch(Query(f'SELECT * FROM "{name}"')))
        for query, keys in (
            (cases, ["expectation_id", "case_id"]),
            (shared, ["expectation_id", "case_id"]),
            (effects, ["expectation_id", "breached"]),
            (counts, ["expectation_id"]),
        ):
            on_duckdb = _rows(kr.engine.fetch(query), keys)
            assert on_duckdb == _rows(spark.fetch(query), keys)
        assert len(_rows(kr.engine.fetch(cases), ["case_id"])) >= 10
    finally:
        spark.close()


def _delight_story() -> dict:
    """Cases on both sides of every default delight margin, with reviews for the effects."""
    promised = "2026-03-06T00:00:00"

    def bought(oid: str, at: str) -> tuple:
        return (
            "Order Completed",
            at,
            {"properties": {"order_id": oid, "promised_delivery_date": promised}},
        )

    return {
        "cas": [
            bought("o3", "09:00"),
            ("Order Confirmation Sent", "09:00", {"properties": {"order_id": "o3"}}),
            ("Web Vitals Measured", "09:01", {"properties": {"lcp": 800}}),
            ("Ticket Created", "10:00", {"properties": {"ticket_id": "t3", "topic": "y"}}),
            ("Ticket Replied", "10:20", {"properties": {"ticket_id": "t3", "author": "agent"}}),
            ("Order Delivered", "2026-03-03T12:00:00", {"properties": {"order_id": "o3"}}),
            (
                "Review Submitted",
                "2026-03-07T12:00:00",
                {"properties": {"order_id": "o3", "rating": 5}},
            ),
        ],
        "dana": [
            bought("o4", "11:00"),
            ("Order Confirmation Sent", "11:03", {"properties": {"order_id": "o4"}}),
            ("Web Vitals Measured", "11:01", {"properties": {"lcp": 1800}}),
            ("Ticket Created", "12:00", {"properties": {"ticket_id": "t4", "topic": "y"}}),
            ("Ticket Replied", "15:00", {"properties": {"ticket_id": "t4", "author": "agent"}}),
            ("Order Delivered", "2026-03-05T18:00:00", {"properties": {"order_id": "o4"}}),
            (
                "Review Submitted",
                "2026-03-07T12:00:00",
                {"properties": {"order_id": "o4", "rating": 4}},
            ),
        ],
        "eli": [
            bought("o5", "12:00"),
            ("Order Delivered", "2026-03-02T20:00:00", {"properties": {"order_id": "o5"}}),
            (
                "Review Submitted",
                "2026-03-07T12:00:00",
                {"properties": {"order_id": "o5", "rating": 3}},
            ),
        ],
    }


def test_delight_agrees_between_duckdb_and_spark(kr):
    pytest.importorskip("pyspark")
    pytest.importorskip("klantreis.store.engines.spark")
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session

    kr.store.append(story({**_story(), **_delight_story()}))
    case_set = ensure_cases(kr)
    ctx = Context(as_of=case_set.as_of, phases=tuple(load_definition("six-phase").phase_ids))
    judged = [r for r in case_set.rules if r.id not in case_set.no_data]
    cases = union_all([case_query(r, ctx) for r in judged])
    by_day = union_all(
        [case_query(r, Context(as_of=ctx.as_of, compare="day", phases=ctx.phases)) for r in judged]
    )
    effects = Query(_EFFECTS, cut=Query("TRUE").tree, purchase_event="Order Completed")
    counts = Query(_COUNTS, cut=Query("TRUE").tree)
    delighted = kr.sql(
        "SELECT expectation_id, count(*) AS n FROM expectation_cases WHERE delighted GROUP BY 1"
    ).to_pylist()
    assert {r["expectation_id"] for r in delighted} >= {
        "delivery_promise_kept",
        "order_confirmed_fast",
        "support_first_response",
        "site_fast",
    }

    session = spark_session(
        SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    )
    spark = SparkEngine(session)
    try:
        for name in ("events", "identities", "journey_events", "expectation_cases"):
            spark.register_arrow(name, kr.engine.fetch(Query(f'SELECT * FROM "{name}"')))
        for query, keys in (
            (cases, ["expectation_id", "case_id"]),
            (by_day, ["expectation_id", "case_id"]),
            (effects, ["expectation_id", "breached"]),
            (counts, ["expectation_id"]),
        ):
            assert _rows(kr.engine.fetch(query), keys) == _rows(spark.fetch(query), keys)
    finally:
        spark.close()
