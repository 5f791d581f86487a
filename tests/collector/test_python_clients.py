"""The Python SDKs shops already use, unchanged except for the host they send to."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from servers import Server


def fetch(server: Server, message_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/v1/messages/{message_id}", auth=(server.read_key, ""), timeout=10
    )
    assert response.status_code == 200, f"{message_id}: {response.text}"
    return response.json()


@pytest.fixture
def segment(server: Server) -> Iterator[tuple[Any, list[Exception]]]:
    analytics = pytest.importorskip("segment.analytics")
    errors: list[Exception] = []
    analytics.write_key = server.write_key
    analytics.host = server.url
    analytics.on_error = lambda error, _items: errors.append(error)
    analytics.max_retries = 0
    analytics.default_client = None
    yield analytics, errors
    analytics.shutdown()
    analytics.default_client = None


@pytest.fixture
def rudder(server: Server) -> Iterator[tuple[Any, list[Exception]]]:
    rudder_analytics = pytest.importorskip("rudderstack.analytics")
    errors: list[Exception] = []
    rudder_analytics.write_key = server.write_key
    rudder_analytics.dataPlaneUrl = server.url
    rudder_analytics.on_error = lambda error, _items: errors.append(error)
    rudder_analytics.max_retries = 0
    rudder_analytics.default_client = None
    yield rudder_analytics, errors
    rudder_analytics.shutdown()
    rudder_analytics.default_client = None


def test_segment_analytics_python(server: Server, segment: tuple[Any, list]) -> None:
    analytics, errors = segment
    ids = {kind: f"seg-{kind}-{uuid.uuid4().hex}" for kind in ("track", "identify", "page")}
    analytics.track(
        "u-42",
        "Order Completed",
        {"order_id": "o-1", "revenue": 49.5},
        message_id=ids["track"],
    )
    analytics.identify("u-42", {"email": "jan@example.nl"}, message_id=ids["identify"])
    analytics.page("u-42", "Shop", "Home", {"url": "https://shop.example/"}, message_id=ids["page"])
    analytics.flush()
    assert errors == []
    track = fetch(server, ids["track"])
    assert track["event"] == "Order Completed"
    assert orjson.loads(track["properties"])["revenue"] == 49.5
    assert "analytics-python" in track["context"]
    assert orjson.loads(fetch(server, ids["identify"])["traits"])["email"] == "jan@example.nl"
    assert fetch(server, ids["page"])["event"] == "Page Viewed"


def test_segment_client_with_gzip(server: Server, segment: tuple[Any, list]) -> None:
    analytics, errors = segment
    analytics.gzip = True
    try:
        message_id = f"seg-gz-{uuid.uuid4().hex}"
        analytics.track("u-1", "Product Viewed", {"sku": "A"}, message_id=message_id)
        analytics.flush()
    finally:
        analytics.gzip = False
    assert errors == []
    assert fetch(server, message_id)["event"] == "Product Viewed"


def test_segment_client_sees_a_wrong_key(server: Server, segment: tuple[Any, list]) -> None:
    analytics, errors = segment
    analytics.write_key = "krw_wrong"
    analytics.track("u-1", "Product Viewed")
    analytics.flush()
    assert len(errors) == 1
    assert "write key" in str(errors[0])


def test_rudder_sdk_python(server: Server, rudder: tuple[Any, list]) -> None:
    rudder_analytics, errors = rudder
    ids = {kind: f"rs-{kind}-{uuid.uuid4().hex}" for kind in ("track", "identify", "alias")}
    rudder_analytics.identify(
        "u-7", {"email": "an@example.be", "plan": "gold"}, message_id=ids["identify"]
    )
    rudder_analytics.track("u-7", "Product Added", {"product_id": "p-9"}, message_id=ids["track"])
    rudder_analytics.alias("anon-7", "u-7", message_id=ids["alias"])
    rudder_analytics.flush()
    assert errors == []
    identify = fetch(server, ids["identify"])
    # rudder puts identify traits under context.traits; the canonical row has them as traits.
    assert orjson.loads(identify["traits"])["plan"] == "gold"
    assert fetch(server, ids["track"])["event"] == "Product Added"
    alias = fetch(server, ids["alias"])
    assert alias["previous_id"] == "anon-7"
