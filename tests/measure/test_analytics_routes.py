"""The analytics read routes over the real app (lifespan opens a real store), with a read key."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story

from klantreis.collect.keys import create_key
from klantreis.config import load_settings
from klantreis.present.api.app import create_app
from klantreis.store import Store

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(
            story(
                {
                    "anna": [(s, f"09:0{i}") for i, s in enumerate(STEPS)],
                    "bram": [("Product Viewed", "09:00")],
                }
            )
        )
        secret = create_key(store, "analyst", "read")[1]
    app = create_app(load_settings(path))
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


def test_funnel_route(client: TestClient):
    response = client.get("/api/funnel", params={"step": STEPS, "window": "1d"})
    assert response.status_code == 200, response.text
    assert [s["persons"] for s in response.json()["steps"]] == [2, 1, 1, 1]


def test_bad_window_names_the_field(client: TestClient):
    response = client.get("/api/funnel", params={"step": STEPS, "window": "soon"})
    assert response.status_code == 400
    assert response.json()["field"] == "window"
    assert "soon" in response.json()["error"]


def test_paths_retention_phase_flow_routes(client: TestClient):
    assert client.get("/api/paths", params={"by": "event"}).json()["persons"] == 2
    assert client.get("/api/retention").json()["cohorts"][0]["cohort_persons"] == 2
    flow = client.get("/api/phase-flow").json()
    assert flow["time_in_phase"] and flow["transitions"]


def test_routes_need_a_read_key(client: TestClient):
    del client.headers["Authorization"]
    assert client.get("/api/funnel", params={"step": STEPS}).status_code == 401


def test_read_key_as_basic_user_or_bearer_and_documented(client: TestClient):
    secret = client.headers["Authorization"].removeprefix("Bearer ")
    params = {"step": STEPS[:2]}
    basic = client.get(
        "/api/funnel", params=params, auth=(secret, ""), headers={"Authorization": ""}
    )
    assert basic.status_code == 200, basic.text
    wrong = client.get("/api/funnel", params=params, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="klantreis"'
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"basic", "bearer"}


def test_step_filters_are_one_parameter_in_python_and_http(tmp_path: Path):
    """`where`/`optional` were CLI-only; now they are fields of the funnel's query."""
    import klantreis

    path = tmp_path / "filters.duckdb"
    shoes, hats = {"properties": {"category": "shoes"}}, {"properties": {"category": "hats"}}
    with Store(path) as store:
        store.append(
            story(
                {
                    "anna": [("Product Viewed", "09:00", shoes), ("Order Completed", "09:05")],
                    "bram": [("Product Viewed", "09:00", hats), ("Order Completed", "09:05")],
                    "cees": [("Order Completed", "09:05")],
                }
            )
        )
        secret = create_key(store, "analyst", "read")[1]
    steps = ["Product Viewed", "Order Completed"]
    with klantreis.open(path) as kr:
        flat = kr.funnel(steps, where=["1:category=shoes"]).as_json()["steps"]
        nested = kr.funnel(
            [{"event": "Product Viewed", "where": {"category": "shoes"}}, "Order Completed"]
        ).as_json()["steps"]
        added = ["Product Viewed", "Product Added", "Order Completed"]
        strict = kr.funnel(added).as_json()["steps"]
        skipped = kr.funnel(added, optional=[2]).as_json()["steps"]
    assert [s["persons"] for s in flat] == [s["persons"] for s in nested] == [1, 1]
    assert (strict[-1]["persons"], skipped[-1]["persons"]) == (0, 2)
    with TestClient(create_app(load_settings(path))) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        answer = client.get("/api/funnel", params={"step": steps, "where": "1:category=shoes"})
        assert [s["persons"] for s in answer.json()["steps"]] == [1, 1]
        bad = client.get("/api/funnel", params={"step": steps, "where": "9:a=b"})
        assert bad.status_code == 400 and bad.json()["field"] == "where"
