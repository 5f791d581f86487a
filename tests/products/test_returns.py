"""Returns analytics on a simulated shop, against figures counted from its events in Python."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import klantreis
from klantreis.collect.keys import create_key
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.config import load_settings
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app
from klantreis.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    shop = simulate(SimulatorConfig(persons=800, seed=5))
    path = tmp_path_factory.mktemp("returns") / "shop.duckdb"
    with Store(path) as store:
        store.append(shop.events)
    events = shop.events.select(["event", "timestamp", "properties"]).to_pylist()
    return path, events


def _expected(events: list[dict]) -> dict:
    first: dict[str, dict[str, datetime]] = defaultdict(dict)
    reason: dict[str, str] = {}
    categories: dict[str, set] = defaultdict(set)
    for e in sorted(events, key=lambda e: e["timestamp"]):
        if e["event"] not in ("Return Requested", "Return Received", "Order Refunded"):
            continue
        props = json.loads(e["properties"])
        order = props["order_id"]
        if e["event"] not in first[order]:
            first[order][e["event"]] = e["timestamp"]
            if e["event"] == "Return Requested":
                reason[order] = props.get("reason") or "(none)"
                for item in props.get("products") or []:
                    categories[item["category"]].add(order)
    returned = [o for o in first if "Return Requested" in first[o]]

    def hours(order: str, event: str) -> float | None:
        if event not in first[order]:
            return None
        return (first[order][event] - first[order]["Return Requested"]).total_seconds() / 3600

    refund = [h for o in returned if (h := hours(o, "Order Refunded")) is not None]
    return {
        "returns": len(returned),
        "reasons": Counter(reason[o] for o in returned),
        "categories": {c: len(orders) for c, orders in categories.items()},
        "median_refund_hours": statistics.median(refund),
    }


def test_returns_are_counted_as_the_events_say(shop_store) -> None:
    path, events = shop_store
    expected = _expected(events)
    with klantreis.open(path) as kr:
        found = kr.returns()
    assert found["returns"] == expected["returns"] > 50
    assert {r["reason"]: r["returns"] for r in found["reasons"]} == dict(expected["reasons"])
    assert {r["category"]: r["returns"] for r in found["categories"]} == expected["categories"]
    median = found["times"]["request_to_refund"]["median_hours"]
    assert median == pytest.approx(expected["median_refund_hours"], abs=1e-3)
    # A cancellation is not a return: no order of `Order Cancelled` alone is counted.
    assert "out_of_stock" not in {r["reason"] for r in found["reasons"]}


def test_cli_and_read_api_agree(shop_store, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = shop_store
    result = CliRunner().invoke(app, ["returns", "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    with Store(path) as store:
        secret = create_key(store, "analyst", "read")[1]
    monkeypatch.chdir(path.parent)
    with TestClient(create_app(load_settings(path))) as client:
        response = client.get("/api/returns", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    assert response.json()["reasons"] == cli["reasons"]
    assert response.json()["times"] == cli["times"]


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_returns_page(shop_store, lang: str, tmp_path: Path) -> None:
    from web.shop import PASSWORD, login, settled
    from web.vocabulary_check import english_words, page_text

    from klantreis.config import Settings
    from klantreis.present.web.auth import create_user

    source, events = shop_store
    path = tmp_path / "shop.duckdb"
    path.write_bytes(source.read_bytes())
    with Store(path) as store:
        create_user(store, "anna-admin", PASSWORD, lang)
    app_ = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app_, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        html = settled(client, "/returns", timeout=300)
    assert 'class="error"' not in html
    expected = _expected(events)
    assert f">{expected['returns']:,}".replace(",", {"en": ",", "nl": ".", "da": "."}[lang]) in html
    if lang != "en":
        assert not english_words(page_text(html), lang)
        assert ("niet zoals beschreven" if lang == "nl" else "ikke som beskrevet") in html
