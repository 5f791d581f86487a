"""Retention and repeat purchase by cohort: who comes back, week by week or month by month.

A person's cohort is the week (Monday) or month of their first `cohort_event` (any event by
default). Period k counts the cohort's persons with a `return_event` (any event by default) in
the k-th week/month after the cohort's start (period 0 is the cohort's own). Repeat purchase is
retention with orders on both sides: period k ≥ 1 means another order in a later period, and
`repeat_purchase` also counts persons with a second order at any later time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pyarrow as pa
from pydantic import Field
from sqlglot import exp

from klantreis.measure.contract import CutQuery
from klantreis.measure.filters import Cut
from klantreis.measure.names import Names
from klantreis.measure.registry import analysis
from klantreis.measure.result import Result
from klantreis.measure.source import prepare, require_table
from klantreis.measure.trees import AnalysisError, fragment, with_ctes
from klantreis.store.engines.base import Engine

if TYPE_CHECKING:
    from klantreis.model.context import Context

Period = Literal["week", "month"]
ORDER_EVENT = "Order Completed"

_FIRSTS = """
SELECT person_id, min("timestamp") AS first_at
FROM journey_events WHERE :cut AND :is_cohort GROUP BY person_id
"""
_COHORTS = {
    "week": "SELECT person_id, first_at, date_trunc('week', first_at) AS cohort FROM firsts",
    "month": "SELECT person_id, first_at, date_trunc('month', first_at) AS cohort FROM firsts",
}
_PERIODS = {
    "week": """
SELECT DISTINCT c.person_id, c.cohort,
       date_diff('day', c.cohort, date_trunc('week', e."timestamp")) // 7 AS period
FROM cohorts AS c JOIN journey_events AS e ON e.person_id = c.person_id
WHERE :cut AND :is_return AND e."timestamp" >= c.first_at
""",
    "month": """
SELECT DISTINCT c.person_id, c.cohort,
       (year(e."timestamp") - year(c.cohort)) * 12 + month(e."timestamp") - month(c.cohort)
           AS period
FROM cohorts AS c JOIN journey_events AS e ON e.person_id = c.person_id
WHERE :cut AND :is_return AND e."timestamp" >= c.first_at
""",
}
_SIZES = "SELECT cohort, count(DISTINCT person_id) AS cohort_persons FROM cohorts GROUP BY cohort"
_RETENTION = """
SELECT a.cohort, a.period, count(DISTINCT a.person_id) AS persons, s.cohort_persons
FROM active AS a JOIN sizes AS s ON s.cohort = a.cohort
WHERE a.period <= :periods
GROUP BY a.cohort, a.period, s.cohort_persons
ORDER BY a.cohort, a.period
"""
_REPEAT = """
SELECT c.cohort, count(DISTINCT c.person_id) AS buyers,
       count(DISTINCT CASE WHEN o.orders >= 2 THEN c.person_id END) AS repeat_buyers
FROM cohorts AS c
JOIN (SELECT person_id, count(*) AS orders FROM journey_events
      WHERE :cut AND :is_order GROUP BY person_id) AS o ON o.person_id = c.person_id
GROUP BY c.cohort ORDER BY c.cohort
"""


_IS_EVENT = {"": '"event" = :name', "e": 'e."event" = :name'}


def _is_event(name: str | None, table: str = "") -> exp.Expression:
    if name is None:
        return exp.true()
    return fragment(_IS_EVENT[table], name=name)


def _ctes(
    period: str, cohort_event: str | None, return_event: str | None, cut: exp.Expression
) -> list[tuple[str, exp.Expression]]:
    if period not in _COHORTS:
        raise AnalysisError(f"{period!r} is not 'week' or 'month'", field="period")
    return [
        ("firsts", fragment(_FIRSTS, cut=cut, is_cohort=_is_event(cohort_event))),
        ("cohorts", fragment(_COHORTS[period])),
        (
            "active",
            fragment(_PERIODS[period], cut=cut, is_return=_is_event(return_event, "e")),
        ),
        ("sizes", fragment(_SIZES)),
    ]


def run_retention(
    engine: Engine,
    *,
    period: Period = "week",
    cohort_event: str | None = None,
    return_event: str | None = None,
    periods: int = 12,
    cut: exp.Expression | None = None,
) -> pa.Table:
    """cohort, period, persons, cohort_persons, share: one row per cohort and period."""
    if periods < 0:
        raise AnalysisError(f"must be zero or more, got {periods}", field="periods")
    require_table(engine, "journey_events")
    cut = cut if cut is not None else exp.true()
    ctes = _ctes(period, cohort_event, return_event, cut)
    table = engine.fetch(with_ctes(ctes, fragment(_RETENTION, periods=periods)))
    shares = [
        r["persons"] / r["cohort_persons"] if r["cohort_persons"] else None
        for r in table.select(["persons", "cohort_persons"]).to_pylist()
    ]
    table = table.cast(
        pa.schema(
            [
                ("cohort", pa.timestamp("us")),
                ("period", pa.int64()),
                ("persons", pa.int64()),
                ("cohort_persons", pa.int64()),
            ]
        )
    )
    return table.append_column("share", pa.array(shares, pa.float64()))


def run_repeat_purchase(
    engine: Engine,
    *,
    period: Period = "month",
    order_event: str = ORDER_EVENT,
    cut: exp.Expression | None = None,
) -> pa.Table:
    """Per cohort of first order: buyers, repeat buyers (a second order ever), share."""
    require_table(engine, "journey_events")
    cut = cut if cut is not None else exp.true()
    ctes = _ctes(period, order_event, order_event, cut)
    final = fragment(_REPEAT, cut=cut, is_order=_is_event(order_event))
    table = engine.fetch(with_ctes(ctes, final))
    shares = [
        r["repeat_buyers"] / r["buyers"] if r["buyers"] else None
        for r in table.select(["buyers", "repeat_buyers"]).to_pylist()
    ]
    table = table.cast(
        pa.schema(
            [("cohort", pa.timestamp("us")), ("buyers", pa.int64()), ("repeat_buyers", pa.int64())]
        )
    )
    return table.append_column("share", pa.array(shares, pa.float64()))


class RetentionQuery(CutQuery):
    """`kr.retention(...)`, `klantreis retention`, `GET /api/retention`."""

    period: Period = Field("week", description="Cohort and return period.")
    cohort_event: str | None = Field(
        None, description="Cohort by the first of this event (default any)."
    )
    return_event: str | None = Field(
        None, description="Count a return on this event (default any)."
    )
    periods: int = Field(12, ge=0, le=520, description="How many periods after the cohort.")


class RepeatPurchaseQuery(CutQuery):
    """`kr.repeat_purchase(...)`, `klantreis retention --repeat-purchase`."""

    period: Period = Field("month", description="Cohort period of the first order.")
    order_event: str = Field(ORDER_EVENT, description="The event that is an order.")


@analysis("retention", query=RetentionQuery, result=Result)
def retention(
    kr: Context,
    *,
    period: Period = "week",
    cohort_event: str | None = None,
    return_event: str | None = None,
    periods: int = 12,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> Result:
    """Retention by cohort, e.g. `kr.retention(period="month", return_event="Order Completed")`."""
    engine = prepare(kr)
    names = Names(kr, engine)
    names.event("cohort_event", cohort_event)
    names.event("return_event", return_event)
    cut = Cut.parse(start, end, persona).condition(engine)
    return Result(
        run_retention(
            engine,
            period=period,
            cohort_event=cohort_event,
            return_event=return_event,
            periods=periods,
            cut=cut,
        )
    )


@analysis("repeat_purchase", query=RepeatPurchaseQuery, result=Result)
def repeat_purchase(
    kr: Context,
    *,
    period: Period = "month",
    order_event: str = ORDER_EVENT,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> Result:
    """Repeat buyers per cohort of first order."""
    engine = prepare(kr)
    Names(kr, engine).event("order_event", order_event)
    condition = Cut.parse(start, end, persona).condition(engine)
    return Result(
        run_repeat_purchase(engine, period=period, order_event=order_event, cut=condition)
    )
