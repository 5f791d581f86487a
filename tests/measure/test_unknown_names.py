"""No silent wrong answers: unknown names, a period under the wrong name and a missing store
are errors that say what is wrong (CLI exit 2, Python exception, HTTP 400 with the field)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story
from typer.testing import CliRunner

import klantreis
from klantreis.collect.keys import create_key
from klantreis.config import load_settings
from klantreis.errors import KlantreisError, UnknownName
from klantreis.measure.contract import QueryError
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app
from klantreis.store import Store

MARCH = {
    "anna": [
        ("Products Searched", "2026-03-02T09:00"),
        ("Product Viewed", "2026-03-02T09:01"),
        ("Order Completed", "2026-03-02T09:05"),
        ("Order Completed", "2026-03-20T10:00"),
    ],
    "bram": [("Products Searched", "2026-03-03T09:00"), ("Product Viewed", "2026-03-03T09:02")],
}
APRIL = {
    "cees": [
        ("Products Searched", "2026-04-02T09:00"),
        ("Product Added", "2026-04-02T09:03"),
        ("Order Completed", "2026-04-02T09:05"),
        ("Order Completed", "2026-04-03T09:05"),
    ],
}


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLANTREIS_ENGINE", raising=False)
    monkeypatch.delenv("KLANTREIS_CONFIG", raising=False)
    monkeypatch.delenv("KLANTREIS_STORE", raising=False)
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story({**MARCH, **APRIL}))
    return path


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


# --- CLI ---------------------------------------------------------------------------------


def test_misspelled_funnel_step_is_an_error_naming_the_closest(store_file: Path):
    result = cli("funnel", "Product Viewed", "Prodct Added", "--store", str(store_file))
    assert result.exit_code == 2, result.output
    assert "step 2: unknown event 'Prodct Added'" in result.output
    assert "'Product Added'" in result.output


def test_misspelled_phase_and_exclusion_are_errors(store_file: Path):
    result = cli("funnel", "phase:purchse", "--store", str(store_file))
    assert result.exit_code == 2 and "'purchase'" in result.output, result.output
    result = cli(
        "funnel", "Product Viewed", "--exclude", "Order Refundd", "--store", str(store_file)
    )
    assert result.exit_code == 2 and "exclude 1" in result.output, result.output
    assert "'Order Refunded'" in result.output


def test_unknown_path_event_is_an_error_not_an_empty_table(store_file: Path):
    result = cli("paths", "--from-event", "Nope", "--store", str(store_file))
    assert result.exit_code == 2, result.output
    assert "unknown event 'Nope'" in result.output
    result = cli("paths", "--to-event", "Order Complete", "--store", str(store_file))
    assert result.exit_code == 2 and "'Order Completed'" in result.output, result.output


def test_old_paths_flag_still_works_with_a_note(store_file: Path):
    result = cli("paths", "--start", "Products Searched", "--json", "--store", str(store_file))
    assert result.exit_code == 0, result.output
    assert "--start-event" in result.stderr
    assert '"persons": 3' in result.stdout


def test_misspelled_retention_event_is_an_error(store_file: Path):
    result = cli("retention", "--cohort-event", "Order Complete", "--store", str(store_file))
    assert result.exit_code == 2 and "'Order Completed'" in result.output, result.output


def test_missing_store_is_an_error_and_is_not_created(tmp_path: Path, store_file: Path):
    missing = tmp_path / "typo.duckdb"
    for command in (["map"], ["funnel", "Product Viewed"], ["paths"], ["stats"]):
        result = cli(*command, "--store", str(missing))
        assert result.exit_code == 2, (command, result.output)
        assert "does not exist" in result.output
    assert not missing.exists()


def test_commands_that_create_stores_still_do(tmp_path: Path, store_file: Path):
    fresh = tmp_path / "fresh.duckdb"
    result = cli("keys", "create", "--name", "shop", "--store", str(fresh))
    assert result.exit_code == 0, result.output
    assert fresh.exists()


# --- Python API ---------------------------------------------------------------------------


def test_period_is_start_end_in_every_analysis(store_file: Path):
    with klantreis.open(store_file) as kr:
        assert kr.paths().persons == 3
        assert kr.paths(start="2026-04-01").persons == 1  # was [] (start was an event)
        assert kr.paths(end="2026-04-01").persons == 2
        assert kr.paths(start_event="Products Searched", start="2026-04-01").persons == 1
        everyone = kr.repeat_purchase(period="month").to_pylist()
        april = kr.repeat_purchase(period="month", start="2026-04-01").to_pylist()
        assert sum(r["buyers"] for r in everyone) == 2
        assert [(r["buyers"], r["repeat_buyers"]) for r in april] == [(1, 1)]
        assert sum(r["persons"] for r in kr.retention(start="2026-04-01").to_pylist()) >= 1
        assert kr.time_in_phase(start="2026-04-01") is not None
        assert kr.phase_transitions(end="2026-04-01") is not None


def test_old_names_fail_loudly_in_python(store_file: Path):
    with klantreis.open(store_file) as kr:
        with pytest.raises(QueryError) as caught:
            kr.paths(start="Products Searched")  # the old event parameter
        assert caught.value.field == "start"
        assert "start_event" in str(caught.value)
        with pytest.raises(TypeError):
            kr.paths(since="2026-04-01")
        with pytest.raises(TypeError):
            kr.repeat_purchase(since="2026-04-01")  # was silently ignored


def test_unknown_names_raise_with_suggestions(store_file: Path):
    with klantreis.open(store_file) as kr:
        with pytest.raises(UnknownName) as caught:
            kr.funnel(["Products Searched", "Order Complete"])
        assert caught.value.field == "step"
        assert caught.value.suggestions[0] == "Order Completed"
        assert isinstance(caught.value, KlantreisError)
        with pytest.raises(UnknownName) as caught:
            kr.paths(end_event="Prodct Viewed")
        assert caught.value.field == "end_event"
        with pytest.raises(UnknownName):
            kr.repeat_purchase(order_event="Purchase")
        # A vocabulary event nobody sent is a true zero, not an error.
        assert kr.funnel(["Coupon Applied"]).as_json()["steps"][0]["persons"] == 0


# --- HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def client(store_file: Path):
    with Store(store_file) as store:
        secret = create_key(store, "analyst", "read")[1]
    with TestClient(create_app(load_settings(store_file))) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


@pytest.mark.parametrize(
    ("route", "params", "field", "suggested"),
    [
        ("/api/funnel", {"step": ["Product Viewed", "Prodct Added"]}, "step", "Product Added"),
        ("/api/paths", {"start_event": "Products Serched"}, "start_event", "Products Searched"),
        ("/api/paths", {"start": "Products Serched"}, "start_event", "Products Searched"),
        ("/api/retention", {"return_event": "Order Complete"}, "return_event", "Order Completed"),
        ("/api/funnel", {"step": ["Product Viewed"], "from": "yesterday"}, "start", None),
        ("/api/expectations", {"now": "soon"}, "now", None),
    ],
)
def test_http_400_names_the_field(client: TestClient, route, params, field, suggested):
    """400: the store refuses a value; 422: the query model does (`now` is not a moment,
    `from` no date)."""
    response = client.get(route, params=params)
    assert response.status_code == (422 if field in ("now", "start") else 400), response.text
    body = response.json()
    assert body["field"] == field
    assert body["error"] == body["detail"]
    if suggested:
        assert repr(suggested) in body["error"]


def test_http_paths_period_and_events(client: TestClient):
    response = client.get("/api/paths", params={"from": "2026-04-01"})
    assert response.status_code == 200, response.text
    assert response.json()["persons"] == 1
    response = client.get("/api/paths", params={"start_event": "Product Viewed", "by": "event"})
    assert response.status_code == 200, response.text
    assert response.json()["persons"] == 2


def test_openapi_documents_the_error_body(client: TestClient):
    spec = client.get("/openapi.json").json()
    body = spec["components"]["schemas"]["ErrorBody"]["properties"]
    assert set(body) == {"error", "detail", "field"}
    funnel = spec["paths"]["/api/funnel"]["get"]["responses"]["400"]
    assert funnel["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
