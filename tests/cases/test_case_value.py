"""Cases carry their customer's value (the stored `customer_values`) and sort by it."""

from __future__ import annotations

from klantreis.act.cases.opening import open_cases
from klantreis.api import Klantreis
from klantreis.measure.value.table import refresh_values


def test_cases_show_and_sort_by_the_customers_value(shop: Klantreis) -> None:
    open_cases(shop)
    assert {c["customer_value"] for c in shop.cases.list()} == {None}  # no values stored yet

    refresh_values(shop)
    stored = {
        r["person_id"]: r["value"]
        for r in shop.sql(
            "SELECT person_id, coalesce(expected_revenue, revenue) AS value FROM customer_values"
        ).to_pylist()
    }
    cases = shop.cases.list(sort="value")
    assert [c["customer_value"] for c in cases] == [stored.get(c["person_id"]) for c in cases]
    valued = [c["customer_value"] for c in cases if c["customer_value"] is not None]
    assert len(valued) >= 2 and valued == sorted(valued, reverse=True)
    first_unvalued = next(
        (i for i, c in enumerate(cases) if c["customer_value"] is None), len(cases)
    )
    assert all(c["customer_value"] is None for c in cases[first_unvalued:])  # buyers first
