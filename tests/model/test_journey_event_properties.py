"""`journey_events` holds no copy of `properties`; `with_properties` reads them from `events`."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.model import build
from klantreis.model.journey_events import JOURNEY_EVENTS, with_properties


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    handle.store.append(
        story(
            {
                "anna": [
                    ("Product Viewed", "09:00", {"properties": {"product_id": "p1"}}),
                    ("Order Completed", "09:10", {"properties": {"order_id": "o1", "total": 30}}),
                    ("Order Delivered", "12:00", {"properties": {"order_id": "o1"}}),
                ],
                "bram": [
                    ("Products Searched", "10:00", {"properties": {"query": "rode jas"}}),
                    ("Identify", "10:01", {"type": "identify", "traits": {"email": "b@x.nl"}}),
                ],
            }
        )
    )
    build(handle.engine)
    yield handle
    handle.close()


def test_the_model_does_not_copy_properties(kr):
    assert "properties" not in JOURNEY_EVENTS.column_names
    built = [r["column_name"] for r in kr.sql("DESCRIBE journey_events").to_pylist()]
    assert built == list(JOURNEY_EVENTS.column_names)


def test_each_event_reads_its_own_properties(kr):
    joined = kr.sql(
        f"SELECT j.message_id, j.event, j.properties FROM {with_properties('TRUE')} AS j"
    ).to_pylist()
    raw = kr.sql(
        "SELECT message_id, event, properties FROM events "
        "WHERE message_id IN (SELECT message_id FROM journey_events)"
    ).to_pylist()
    key = lambda r: r["message_id"]  # noqa: E731
    assert sorted(joined, key=key) == sorted(raw, key=key)
    assert len(joined) == kr.engine.scalar("SELECT count(*) FROM journey_events") == 4


def test_the_filter_narrows_both_sides(kr):
    orders = with_properties("event = 'Order Completed'")
    rows = kr.sql(f"SELECT event, properties ->> '$.total' AS total FROM {orders} AS j").to_pylist()
    assert rows == [{"event": "Order Completed", "total": "30"}]
    carriers = with_properties("TRUE", events_where="properties ->> '$.query' IS NOT NULL")
    rows = kr.sql(f"SELECT person_id, event FROM {carriers} AS j").to_pylist()
    assert rows == [{"person_id": "bram", "event": "Products Searched"}]
