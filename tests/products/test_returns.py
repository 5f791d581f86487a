"""Returns analytics on a simulated shop, against figures counted from its events in Python."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import klantreis
from klantreis.collect.keys import create_key
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.config import load_settings
from klantreis.errors import KlantreisError
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app
from klantreis.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    shop = simulate(SimulatorConfig(persons=800, seed=5))
    path = tmp_path_factory.mktemp("returns") / "shop.duckdb"
    with Store(path) as store:
        store.append(shop.events)
    events = shop.events.select(["event", "timestamp", "user_id", "properties"]).to_pandas()
    return path, events


RETURN_EVENTS = (
    "Return Requested",
    "Return Approved",
    "Return Rejected",
    "Return Received",
    "Order Refunded",
)


def _expected(events: pd.DataFrame, start: datetime | None = None) -> dict:
    """The returns figures counted with pandas from the raw events: after an order the
    simulated customer is known by user id, so the person is the user id here."""
    events = events.sort_values("timestamp", kind="stable")
    props = events["properties"].map(json.loads)
    events = events.assign(
        order_id=props.map(lambda p: p.get("order_id")),
        reason=props.map(lambda p: p.get("reason") or "(none)"),
        rating=props.map(lambda p: p.get("rating")),
        products=props.map(lambda p: p.get("products") or []),
    )
    asked = events[events["event"] == "Return Requested"].drop_duplicates("order_id")
    if start is not None:
        asked = asked[asked["timestamp"] >= start]
    asked = asked.set_index("order_id")
    firsts = {}
    for name in RETURN_EVENTS[1:]:
        rows = events[(events["event"] == name) & events["order_id"].isin(asked.index)]
        rows = rows.join(asked["timestamp"].rename("asked_at"), on="order_id")
        rows = rows[rows["timestamp"] >= rows["asked_at"]].drop_duplicates("order_id")
        firsts[name] = rows.set_index("order_id")
    frame = asked[["user_id", "timestamp", "reason"]].rename(columns={"timestamp": "asked_at"})
    for name, rows in firsts.items():
        frame[name] = rows["timestamp"].reindex(frame.index)

    def hours(name: str) -> pd.Series:
        return (frame[name] - frame["asked_at"]).dt.total_seconds() / 3600

    rejected = frame["Return Rejected"].notna() & ~(
        frame["Return Approved"].notna() & (frame["Return Approved"] <= frame["Return Rejected"])
    )
    decided = frame["Return Approved"].notna() | frame["Return Rejected"].notna()
    newest = events["timestamp"].max()
    waited = (newest - frame["asked_at"]).dt.total_seconds() / 3600
    slow = (
        (hours("Return Approved") > 48)
        | (hours("Order Refunded") > 14 * 24)
        | (frame["Order Refunded"].isna() & (waited > 14 * 24))
    )
    outcome = pd.Series("open", index=frame.index)
    outcome[hours("Order Refunded") <= 14 * 24] = "quick"
    outcome[slow] = "slow"
    outcome[rejected] = "rejected"
    reviews = events[events["event"].isin(["Review Submitted", "Product Reviewed"])]
    reviews = reviews[reviews["rating"].notna()]
    orders = events[events["event"] == "Order Completed"].drop_duplicates("order_id")
    after = []
    for order_id, row in frame.iterrows():
        mine = reviews[
            (reviews["user_id"] == row["user_id"]) & (reviews["timestamp"] > row["asked_at"])
        ]
        later = orders[
            (orders["user_id"] == row["user_id"])
            & (orders["timestamp"] > row["asked_at"])
            & (orders["order_id"] != order_id)
        ]
        after.append(
            {
                "next_rating": float(mine["rating"].iloc[0]) if len(mine) else None,
                "again": bool(len(later))
                and later["timestamp"].iloc[0] <= row["asked_at"] + timedelta(days=90),
                "judged": row["asked_at"] <= newest - timedelta(days=90),
            }
        )
    after = pd.DataFrame(after, index=frame.index)
    groups = {}
    for name in ("quick", "slow", "rejected"):
        part = after[outcome == name]
        rated = part["next_rating"].dropna()
        judged = part[part["judged"]]
        groups[name] = {
            "returns": len(part),
            "reviewed": len(rated),
            "review_score": rated.mean(),
            "repeat_judged": len(judged),
            "repeat_share": judged["again"].mean(),
        }
    categories: dict[str, set] = defaultdict(set)
    for order_id, items in asked["products"].items():
        for item in items:
            categories[item["category"]].add(order_id)
    return {
        "returns": len(frame),
        "reasons": Counter(frame["reason"]),
        "categories": {c: len(orders) for c, orders in categories.items()},
        "median_refund_hours": hours("Order Refunded").median(),
        "median_approval_hours": hours("Return Approved").median(),
        "decided": int(decided.sum()),
        "rejected": int(rejected.sum()),
        "groups": groups,
    }


def test_returns_are_counted_as_the_events_say(shop_store) -> None:
    path, events = shop_store
    expected = _expected(events)
    with klantreis.open(path) as kr:
        found = kr.returns().as_json()
    assert found["returns"] == expected["returns"] > 50
    assert {r["reason"]: r["returns"] for r in found["reasons"]} == dict(expected["reasons"])
    assert {r["category"]: r["returns"] for r in found["categories"]} == expected["categories"]
    median = found["times"]["request_to_refund"]["median_hours"]
    assert median == pytest.approx(expected["median_refund_hours"], abs=1e-3)
    # A cancellation is not a return: no order of `Order Cancelled` alone is counted.
    assert "out_of_stock" not in {r["reason"] for r in found["reasons"]}


def test_decisions_and_what_follows_a_rejected_or_slow_return(shop_store) -> None:
    path, events = shop_store
    expected = _expected(events)
    with klantreis.open(path) as kr:
        found = kr.returns().as_json()
    decisions = found["decisions"]
    assert (decisions["decided"], decisions["rejected"]) == (
        expected["decided"],
        expected["rejected"],
    )
    assert expected["rejected"] > 5
    low, high = decisions["ci"]
    assert low < decisions["rejected_share"] < high
    approval = found["times"]["request_to_approval"]
    assert approval["median_hours"] == pytest.approx(expected["median_approval_hours"], abs=1e-3)
    assert approval["median_ci"][0] <= approval["median_hours"] <= approval["median_ci"][1]
    rows = {r["outcome"]: r for r in found["after_return"]}
    for name, group in expected["groups"].items():
        row = rows[name]
        assert (row["returns"], row["reviewed"], row["repeat_judged"]) == (
            group["returns"],
            group["reviewed"],
            group["repeat_judged"],
        ), name
        assert row["review_score"] == pytest.approx(group["review_score"], abs=1e-5), name
        assert row["repeat_share"] == pytest.approx(group["repeat_share"], abs=1e-5), name
    # The simulated shop makes a rejected or slow return cost a review: the interval says so.
    for name in ("slow", "rejected"):
        review = rows[name]["against_quick"]["review_score"]
        expected_difference = (
            expected["groups"][name]["review_score"] - expected["groups"]["quick"]["review_score"]
        )
        assert review["difference"] == pytest.approx(expected_difference, abs=1e-3)
        assert review["low"] < review["difference"] < review["high"] < 0, name


def test_the_period_selects_requests(shop_store) -> None:
    path, events = shop_store
    start = datetime(2026, 3, 1)
    expected = _expected(events, start)
    with klantreis.open(path) as kr:
        found = kr.returns(start="2026-03-01").as_json()
    assert 0 < found["returns"] == expected["returns"] < _expected(events)["returns"]
    assert found["decisions"]["rejected"] == expected["rejected"]
    with klantreis.open(path) as kr, pytest.raises(KlantreisError) as caught:
        kr.returns(start="March")
    assert caught.value.field == "start"


def test_cli_and_read_api_agree(shop_store, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = shop_store
    result = CliRunner().invoke(
        app, ["returns", "--store", str(path), "--from", "2026-03-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    with Store(path) as store:
        secret = create_key(store, "analyst", "read")[1]
    monkeypatch.chdir(path.parent)
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(load_settings(path))) as client:
        response = client.get("/api/returns", params={"from": "2026-03-01"}, headers=headers)
        refused = client.get("/api/returns", params={"from": "March"}, headers=headers)
    assert response.status_code == 200, response.text
    with klantreis.open(path) as kr:
        python = kr.returns(start="2026-03-01").as_json()
    for key in ("returns", "reasons", "times", "decisions", "after_return"):
        assert response.json()[key] == cli[key] == json.loads(json.dumps(python[key])), key
    assert refused.status_code == 422 and refused.json()["field"] == "start"
    bad = CliRunner().invoke(app, ["returns", "--store", str(path), "--from", "March"])
    assert bad.exit_code == 2 and "--from" in bad.output


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
    assert 'id="period-filter"' in html and 'data-outcome="rejected"' in html
    assert 'id="rejection-reasons"' in html and 'data-time="request_to_approval"' in html
    if lang != "en":
        assert not english_words(page_text(html), lang)
        assert ("niet zoals beschreven" if lang == "nl" else "ikke som beskrevet") in html
