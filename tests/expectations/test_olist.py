"""The scorecard on the real Olist sample, against figures computed independently from the CSVs.

The expected figures are computed here with pandas straight from the files, not through
klantreis; the issue's own figures (7.9 %, 6.6 %, 2.60 vs 4.28) are checked as well.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

NOW = datetime(2018, 8, 1, 12, 0)


@pytest.fixture(scope="module")
def orders(olist_dir: Path) -> pd.DataFrame:
    dates = [
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ]
    frame = pd.read_csv(olist_dir / "olist_orders_dataset.csv", parse_dates=dates)
    customers = pd.read_csv(olist_dir / "olist_customers_dataset.csv")
    return frame.merge(customers[["customer_id", "customer_unique_id"]], on="customer_id")


@pytest.fixture(scope="module")
def delivered(orders: pd.DataFrame, olist_dir: Path) -> pd.DataFrame:
    d = orders[orders["order_delivered_customer_date"].notna()].copy()
    d["late"] = d["order_delivered_customer_date"] > d["order_estimated_delivery_date"]
    d["late_by_day"] = (
        d["order_delivered_customer_date"].dt.normalize()
        > d["order_estimated_delivery_date"].dt.normalize()
    )
    reviews = pd.read_csv(olist_dir / "olist_order_reviews_dataset.csv")
    rating = reviews.groupby("order_id")["review_score"].mean().rename("rating")
    return d.merge(rating, left_on="order_id", right_index=True, how="left")


def test_late_share_of_delivered_orders(olist_kr, delivered):
    expected = delivered["late"].mean()
    score = olist_kr.expectations(compare="timestamp").get("delivery_promise_kept")
    assert score.cases == len(delivered)
    assert score.breached == int(delivered["late"].sum())
    assert score.breach_rate == pytest.approx(expected, abs=1e-4)
    assert score.breach_rate == pytest.approx(0.079, abs=0.001)
    assert score.interval["low"] < score.breach_rate < score.interval["high"]

    by_day = olist_kr.expectations(compare="day").get("delivery_promise_kept")
    assert by_day.breached == int(delivered["late_by_day"].sum())
    assert by_day.breach_rate == pytest.approx(0.066, abs=0.001)


def test_review_score_of_late_and_on_time_customers(olist_kr, delivered):
    # Per person, their first delivered order (the scorecard compares persons by first case).
    first = (
        delivered.sort_values(["order_purchase_timestamp", "order_id"])
        .groupby("customer_unique_id")
        .head(1)
    )
    means = first.groupby("late")["rating"].mean()
    effects = olist_kr.expectations(compare="timestamp").get("delivery_promise_kept").effects
    assert effects["breached"]["review_score"] == pytest.approx(means[True], abs=0.001)
    assert effects["met"]["review_score"] == pytest.approx(means[False], abs=0.001)
    assert effects["breached"]["review_score"] == pytest.approx(2.60, abs=0.02)
    assert effects["met"]["review_score"] == pytest.approx(4.28, abs=0.02)
    diff = effects["review_score"]
    assert diff["low"] < diff["difference"] < diff["high"] < 0
    assert effects["nps"] is None  # Olist has no NPS answers: no number made up


def test_every_late_order_is_a_breach_of_its_customer(olist_kr, delivered):
    olist_kr.expectations(compare="timestamp")
    rows = olist_kr.breaches(expectation="delivery_promise_kept", limit=100_000).to_pandas()
    late = delivered[delivered["late"]]
    assert set(rows["order_id"]) == set(late["order_id"])
    merged = rows.merge(late, on="order_id")
    assert (merged["person_id"] == merged["customer_unique_id"]).all()
    assert (merged["breached_at"] == merged["order_estimated_delivery_date"]).all()
    assert set(rows["phase"]) == {"service"}
    assert rows["journey_id"].notna().all()


def test_events_olist_lacks_say_no_data(olist_kr):
    card = olist_kr.expectations()
    for rule_id in (
        "order_confirmed_fast",
        "support_first_response",
        "site_fast",
        "consented_contact_only",
        "payment_succeeds",
    ):
        assert card.get(rule_id).status == "no data"
        assert card.get(rule_id).breach_rate is None


def test_at_risk_orders_match_the_csv(olist_kr, orders):
    o = orders[orders["order_purchase_timestamp"] <= NOW]
    cancel_at = o[
        [
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
        ]
    ].max(axis=1)
    cancelled = o["order_status"].isin(["canceled", "unavailable"]) & (cancel_at <= NOW)
    delivered = o["order_delivered_customer_date"].notna() & (
        o["order_delivered_customer_date"] <= NOW
    )
    shipped = o["order_delivered_carrier_date"].notna() & (o["order_delivered_carrier_date"] <= NOW)
    hours_left = (o["order_estimated_delivery_date"] - NOW).dt.total_seconds() / 3600
    open_orders = ~cancelled & ~delivered & (hours_left >= 0)
    risky = open_orders & ((~shipped & (hours_left < 72)) | (shipped & (hours_left < 24)))
    expected = set(o.loc[risky, "order_id"])
    assert expected, "the chosen moment should have orders at risk"

    result = olist_kr.at_risk(now=NOW, unshipped_hours=72, undelivered_hours=24)
    rows = result.to_pylist()
    assert {r["order_id"] for r in rows} == expected
    assert result.meta["now"] == NOW
    assert [r["hours_left"] for r in rows] == sorted(r["hours_left"] for r in rows)
    stages = {r["order_id"]: r["stage"] for r in rows}
    for order_id in expected:
        was_shipped = bool(shipped[o["order_id"] == order_id].iloc[0])
        assert stages[order_id] == ("not delivered" if was_shipped else "not shipped")


def test_orders_delivered_a_day_early_are_delight(olist_kr, delivered):
    early = delivered["order_delivered_customer_date"] <= (
        delivered["order_estimated_delivery_date"] - pd.Timedelta(days=1)
    )
    score = olist_kr.expectations(compare="timestamp").get("delivery_promise_kept")
    assert score.breached == int(delivered["late"].sum())  # breach counts stay as they were
    assert score.delighted == int(early.sum())
    assert score.delight_rate == pytest.approx(early.mean(), abs=1e-4)
    assert score.delight_rate == pytest.approx(0.906, abs=0.001)
    assert score.delight_interval["low"] < score.delight_rate < score.delight_interval["high"]

    early_by_day = delivered["order_delivered_customer_date"].dt.normalize() <= (
        delivered["order_estimated_delivery_date"].dt.normalize() - pd.Timedelta(days=1)
    )
    by_day = olist_kr.expectations(compare="day").get("delivery_promise_kept")
    assert by_day.delighted == int(early_by_day.sum())

    # Effects: per person their first delivered order, delighted against merely on time.
    first = delivered.assign(early=early).sort_values(["order_purchase_timestamp", "order_id"])
    first = first.groupby("customer_unique_id").head(1)
    on_time = first[~first["late"]]
    means = on_time.groupby("early")["rating"].mean()
    delight = score.effects["delight"]
    assert delight["delighted"]["review_score"] == pytest.approx(means[True], abs=0.001)
    assert delight["met_not_delighted"]["review_score"] == pytest.approx(means[False], abs=0.001)
    assert delight["delighted"]["persons"] == int(on_time["early"].sum())
