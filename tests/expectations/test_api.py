"""The read API of the scorecard, against a real `klantreis serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server
from stories import story

from klantreis.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("api") / "store.duckdb"
    with Store(path) as store:
        store.append(
            story(
                {
                    "ann": [
                        (
                            "Order Completed",
                            "2026-03-02T09:00",
                            {
                                "properties": {
                                    "order_id": "late",
                                    "promised_delivery_date": "2026-03-06T00:00:00",
                                }
                            },
                        ),
                        (
                            "Order Delivered",
                            "2026-03-08T10:00",
                            {"properties": {"order_id": "late"}},
                        ),
                    ],
                    "ben": [
                        (
                            "Order Completed",
                            "2026-03-07T09:00",
                            {
                                "properties": {
                                    "order_id": "open",
                                    "promised_delivery_date": "2026-03-09T00:00:00",
                                }
                            },
                        )
                    ],
                }
            )
        )
    server = Server(path)
    server.read_key = server.create_key("analyst", read=True)
    server.start()
    yield server
    server.stop()


def get(server: Server, path: str, **params) -> httpx.Response:
    return httpx.get(
        f"{server.url}{path}",
        params=params,
        timeout=60,
        headers={"Authorization": f"Bearer {server.read_key}"},
    )


def test_scorecard_route(server):
    response = get(server, "/api/expectations", by="carrier")
    assert response.status_code == 200, response.text
    data = response.json()
    kept = next(e for e in data["expectations"] if e["id"] == "delivery_promise_kept")
    assert (kept["cases"], kept["breached"], kept["breach_rate"]) == (1, 1, 1.0)
    assert next(e for e in data["expectations"] if e["id"] == "site_fast")["status"] == "no data"


def test_breaches_pain_points_and_at_risk_routes(server):
    breaches = get(server, "/api/breaches", person_id="ann").json()["breaches"]
    assert [b["expectation_id"] for b in breaches] == ["delivery_promise_kept"]
    assert get(server, "/api/breaches", person_id="ben").json()["breaches"] == []
    pains = get(server, "/api/pain-points").json()["phases"]
    assert pains["service"][0]["expectation_id"] == "delivery_promise_kept"
    risky = get(server, "/api/at-risk", now="2026-03-08T12:00").json()
    assert [o["order_id"] for o in risky["orders"]] == ["open"]
    assert risky["orders"][0]["stage"] == "not shipped"


def test_bad_requests_name_the_field(server):
    response = get(server, "/api/expectations", by="colour")
    assert response.status_code == 422 and "by" in response.text
    response = get(server, "/api/expectations", now="yesterday")
    assert response.status_code == 422 and "now: not an ISO timestamp" in response.json()["error"]
    response = get(server, "/api/expectations", **{"from": "soon"})
    assert response.status_code == 422 and response.json()["field"] == "start"
    assert response.json()["error"] == "start: not an ISO date: 'soon' (e.g. 2026-03-01)"
    assert httpx.get(f"{server.url}/api/expectations", timeout=30).status_code == 401


def test_scorecard_route_reports_delight_next_to_breaches(server):
    data = get(server, "/api/expectations").json()
    kept = next(e for e in data["expectations"] if e["id"] == "delivery_promise_kept")
    assert (kept["breach_rate"], kept["delight_margin"]) == (1.0, "early by 1d")
    assert (kept["delighted"], kept["delight_rate"]) == (0, 0.0)  # measured: none early
    assert kept["delight_interval"]["low"] == 0.0 < kept["delight_interval"]["high"]
    arrives = next(e for e in data["expectations"] if e["id"] == "order_arrives")
    assert arrives["cases"] == 1 and arrives["delight_rate"] is None  # no margin: no figure
