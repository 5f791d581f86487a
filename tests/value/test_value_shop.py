"""Customer value on a simulated shop: stored per buyer, kept current, erasable, on the
scorecard as revenue at risk and in opportunities as an outcome and a sort order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from servers import Server, cli_here
from stories import story

import klantreis
from klantreis.model import ensure_built
from klantreis.privacy import erase_person

pytestmark = pytest.mark.slow


@pytest.fixture
def copied(shop_store: Path, tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    shutil.copy(shop_store, path)
    return path


def test_each_buyer_has_a_value_from_their_own_orders(shop_store: Path) -> None:
    with klantreis.open(shop_store) as kr:
        found = kr.value(limit=5).as_json()
        rows = kr.sql("SELECT * FROM customer_values").to_pandas()
        revenue = kr.sql(
            """SELECT person_id, sum(amount) AS revenue FROM (
                 SELECT person_id, order_id,
                   arg_min(TRY_CAST(properties ->> '$.revenue' AS DOUBLE), timestamp) AS amount
                 FROM journey_events WHERE event = 'Order Completed' AND order_id IS NOT NULL
                 GROUP BY ALL) GROUP BY person_id"""
        ).to_pandas()
    assert found["method"] == "bgnbd" and "bought again" in found["reason"]
    assert found["persons"] == len(rows) == len(revenue)
    merged = rows.merge(revenue, on="person_id", suffixes=("", "_oracle"))
    assert (merged["revenue"] - merged["revenue_oracle"]).abs().max() < 1e-6
    product = rows["expected_purchases"] * rows["expected_order_value"]
    assert (rows["expected_revenue"] - product).abs().max() < 1e-6
    assert rows["p_alive"].between(0, 1).all()
    # One-time buyers are alive under BG/NBD; repeat buyers long quiet are less so.
    assert (rows.loc[rows["repeat_purchases"] == 0, "p_alive"] == 1).all()
    assert rows["p_alive"].min() < 0.5
    listed = [p["expected_revenue"] for p in found["persons_listed"]]
    assert listed == sorted(listed, reverse=True) and len(listed) == 5
    assert set(rows["rfm"].str.len()) == {3}


def test_values_follow_new_orders_and_erasure(copied: Path) -> None:
    with klantreis.open(copied) as kr:
        before = kr.value(limit=0).as_json()
        kr.store.append(
            story(
                {
                    "zoe": [
                        (
                            "Order Completed",
                            "2030-01-01T10:00",
                            {"properties": {"order_id": "z1", "revenue": 42.0}},
                        )
                    ]
                }
            )
        )
        one = kr.value(person="zoe").as_json()
        assert one["persons"] == before["persons"] + 1
        assert one["persons_listed"][0]["revenue"] == 42.0
        erased = erase_person(kr.store, "zoe")
    assert erased.get("customer_values") == 1
    with klantreis.open(copied) as kr:
        left = kr.sql("SELECT count(*) AS n FROM customer_values WHERE person_id = 'zoe'")
        assert left.to_pylist()[0]["n"] == 0


def test_few_repeat_buyers_get_rfm_scores_and_the_reason(tmp_path: Path) -> None:
    people = {
        f"p{i}": [
            (
                "Order Completed",
                f"2026-03-{1 + i % 20:02d}T10:00",
                {"properties": {"order_id": f"o{i}", "revenue": 10.0 + i}},
            )
        ]
        for i in range(40)
    }
    people["p0"].append(
        (
            "Order Completed",
            "2026-03-25T10:00",
            {"properties": {"order_id": "o0b", "revenue": 100.0}},
        )
    )
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        kr.store.append(story(people))
        found = kr.value(limit=40).as_json()
    assert found["method"] == "rfm"
    assert found["reason"].startswith("only 1 of 40 buyers")
    assert found["totals"]["expected_revenue"] is None and found["churn"] == []
    top = found["persons_listed"][0]
    assert top["person_id"] == "p0" and top["expected_revenue"] is None
    assert top["rfm"] == "555"


def test_revenue_at_risk_on_the_scorecard(shop_store: Path) -> None:
    with klantreis.open(shop_store) as kr:
        score = kr.expectations().get("delivery_promise_kept")
        oracle = kr.sql(
            """SELECT count(*) AS buyers, sum(v.expected_revenue) AS expected,
                      sum(v.revenue) AS revenue
               FROM (SELECT DISTINCT person_id FROM breaches
                     WHERE expectation_id = 'delivery_promise_kept') AS b
               JOIN customer_values AS v ON v.person_id = b.person_id"""
        ).to_pylist()[0]
    risk = score.value_at_risk
    assert risk is not None and risk["buyers"] == oracle["buyers"] > 0
    assert risk["expected_revenue"] == pytest.approx(oracle["expected"], abs=0.01)
    assert risk["revenue"] == pytest.approx(oracle["revenue"], abs=0.01)
    assert risk["currency"] == "EUR" and risk["horizon_weeks"] == 52
    shown = cli_here("expectations", store=shop_store, check=True).stdout
    assert f"Breaches of delivery_promise_kept hit {risk['buyers']:,} customers worth EUR" in (
        " ".join(shown.split())
    )


def test_conversion_and_customer_value_are_outcomes(shop_store: Path) -> None:
    with klantreis.open(shop_store) as kr:
        conversion = kr.opportunities(outcome="conversion").as_json()
        by_value = kr.opportunities(by="value").as_json()
    drivers = {o["driver"]: o for o in conversion}
    # The simulated shoppers about to order sometimes leave after a search or filter that
    # found nothing or a very slow page: at least one of those breaches measurably costs it.
    frustrations = [
        drivers[d] for d in ("search_finds", "filter_finds", "site_fast") if d in drivers
    ]
    assert frustrations and all(o["ci_high"] < 0 for o in frustrations)
    assert all("shopping journeys" in o["method"] for o in frustrations)
    assert all(o["impact_text"].endswith("journeys") for o in frustrations)
    assert not any(o["driver"] in ("cart", "checkout", "no checkout") for o in conversion)
    assert "payment_succeeds" not in drivers  # inside the checkout: the funnel's figure
    for outcome in {o["outcome"] for o in by_value}:
        stakes = [o["value_at_stake"] for o in by_value if o["outcome"] == outcome]
        ranks = [o["rank"] for o in by_value if o["outcome"] == outcome]
        assert stakes == sorted(stakes, reverse=True) and ranks == list(range(1, len(ranks) + 1))
    assert {"conversion", "customer_value"} <= {o["outcome"] for o in by_value}


def test_value_over_http(copied: Path) -> None:
    server = Server(copied)
    key = server.create_key("analyst", read=True)
    server.start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        got = httpx.get(f"{server.url}/api/value", params={"limit": 3}, headers=auth, timeout=60)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["method"] == "bgnbd" and len(body["persons_listed"]) == 3
        nobody = httpx.get(
            f"{server.url}/api/value", params={"person": "nobody"}, headers=auth, timeout=60
        )
        assert nobody.status_code == 400 and nobody.json()["field"] == "person"
        bad = httpx.get(
            f"{server.url}/api/value", params={"horizon_weeks": 0}, headers=auth, timeout=60
        )
        assert bad.status_code == 422 and bad.json()["field"] == "horizon_weeks"
    finally:
        server.stop()
    assert json.loads(cli_here("value", "--json", "--limit", "1", store=copied).stdout)["persons"]


def test_a_read_only_store_values_in_memory(copied: Path) -> None:
    with klantreis.open(copied) as kr:
        kr.store.append(
            story(
                {
                    "yara": [
                        (
                            "Order Completed",
                            "2030-01-01T10:00",
                            {"properties": {"order_id": "y1", "revenue": 7.0}},
                        )
                    ]
                }
            )
        )
        ensure_built(kr)  # the model is current; the values are left stale
    with klantreis.open(copied, read_only=True) as kr:
        found = kr.value(person="yara").as_json()
    assert found["persons_listed"][0]["revenue"] == 7.0
