"""Retention and repeat purchase by cohort, on every engine."""

from __future__ import annotations

from datetime import datetime

import pytest
from journeys import journeys_for

from klantreis.measure.retention import run_repeat_purchase, run_retention
from klantreis.measure.trees import AnalysisError

MON = datetime(2026, 3, 2)  # a Monday


def at(day: int, hour: int = 10) -> datetime:
    return MON.replace(day=MON.day + day, hour=hour) if day < 25 else datetime(2026, 4, day - 24)


PEOPLE = {
    # cohort week of 2 March
    "anna": [("Order Completed", at(0)), ("Product Viewed", at(8)), ("Order Completed", at(15))],
    "bram": [("Order Completed", at(1))],
    # cohort week of 9 March
    "cees": [("Product Viewed", at(7)), ("Product Viewed", at(9))],
}


def test_weekly_retention(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    rows = run_retention(engine, period="week").to_pylist()
    got = {(r["cohort"].day, r["period"]): (r["persons"], r["cohort_persons"]) for r in rows}
    assert got == {(2, 0): (2, 2), (2, 1): (1, 2), (2, 2): (1, 2), (9, 0): (1, 1)}
    first = next(r for r in rows if r["cohort"].day == 2 and r["period"] == 1)
    assert first["share"] == pytest.approx(0.5)


def test_retention_with_return_event(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    rows = run_retention(
        engine, period="week", cohort_event="Order Completed", return_event="Order Completed"
    ).to_pylist()
    got = {(r["cohort"].day, r["period"]): r["persons"] for r in rows}
    assert got == {(2, 0): 2, (2, 2): 1}


def test_monthly_repeat_purchase(load):
    people = {
        "anna": [("Order Completed", at(0)), ("Order Completed", at(27))],
        "bram": [("Order Completed", at(1))],
        "cees": [("Order Completed", at(26))],
    }
    engine = load({"journey_events": journeys_for(people)})
    rows = run_repeat_purchase(engine, period="month").to_pylist()
    got = [(r["cohort"].month, r["buyers"], r["repeat_buyers"]) for r in rows]
    assert got == [(3, 2, 1), (4, 1, 0)]
    monthly = run_retention(
        engine, period="month", cohort_event="Order Completed", return_event="Order Completed"
    ).to_pylist()
    assert {(r["cohort"].month, r["period"]): r["persons"] for r in monthly} == {
        (3, 0): 2,
        (3, 1): 1,
        (4, 0): 1,
    }


def test_bad_period_is_named(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    with pytest.raises(AnalysisError, match="period"):
        run_retention(engine, period="fortnight")  # type: ignore[arg-type]
