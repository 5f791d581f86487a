"""`kr.value()`, `klantreis value`, `GET /api/value`: customer value per person.

The stored `customer_values` (as of the last event, `HORIZON_WEEKS` ahead) is read when the
query asks for it; another moment (`now`, e.g. the end of a calibration period) or horizon is
fitted on the fly and not stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, computed_field

from klantreis.errors import KlantreisError, UnknownName
from klantreis.measure.contract import AnalysisQuery, AnalysisResult, Moment
from klantreis.measure.registry import analysis
from klantreis.measure.value.table import (
    HORIZON_WEEKS,
    ValueFit,
    compute_values,
    ensure_values,
    holdout,
    values_frame,
)
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

CHURN_BANDS = ((0.0, 0.25, "high"), (0.25, 0.5, "elevated"), (0.5, 0.8, "moderate"))
"""Churn risk from the probability alive: below 0.25 high, ..., 0.8 and above low."""


class UnknownBuyer(KlantreisError):
    """A person who is not among the buyers."""


class ValueQuery(AnalysisQuery):
    """`kr.value(...)`, `klantreis value`, `GET /api/value`."""

    now: Moment = Field(
        None, description="Value as of this ISO moment: only orders up to it (default: last event)."
    )
    horizon_weeks: int = Field(
        HORIZON_WEEKS, ge=1, le=520, description="Weeks ahead for expected purchases and revenue."
    )
    person: str | None = Field(None, description="Only this person id.")
    expectation: str | None = Field(
        None,
        description="Only the buyers breaches of this expectation hit (revenue at risk per "
        "person).",
    )
    limit: int = Field(20, ge=0, le=10_000, description="Persons to list, most valuable first.")


class PersonValue(BaseModel):
    """One buyer's value (a row of `customer_values`, with the churn-risk band)."""

    person_id: str
    orders: int
    revenue: float | None
    first_order_at: str
    last_order_at: str
    repeat_purchases: int
    expected_purchases: float | None
    expected_order_value: float | None
    expected_revenue: float | None
    p_alive: float | None
    churn_risk: str | None
    rfm: str
    rfm_score: int


class ChurnBand(BaseModel):
    churn_risk: str
    persons: int
    revenue: float | None
    expected_revenue: float | None


class ValueTotals(BaseModel):
    revenue: float | None
    expected_purchases: float | None
    expected_revenue: float | None


class Holdout(BaseModel):
    """Predicted against actual purchase days after `now`, within the horizon."""

    start: str
    end: str
    complete: bool
    persons: int
    predicted_purchases: float
    actual_purchases: int


class CustomerValue(AnalysisResult):
    """What `kr.value()` answers: the method and why, the fit, totals over the buyers in the
    answer (`buyers`; all of them, or those an expectation's breaches hit), churn-risk bands
    and the most valuable buyers; `as_json()` is `klantreis value --json` and `/api/value`."""

    method: str
    reason: str
    as_of: str
    horizon_weeks: int
    persons: int
    repeat_buyers: int
    currency: str | None
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    seconds: float
    at_boundary: list[str]
    """BG/NBD parameters that ran off to the edge of the fit: the data do not pin them down
    (`a`, `b`: who stops buying is not identified; every buyer gets one dropout chance)."""
    buyers: int
    totals: ValueTotals
    churn: list[ChurnBand]
    persons_listed: list[PersonValue]
    expectation: str | None = None
    holdout: Holdout | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def identified(self) -> bool | None:
        """Whether the data pin down every fitted parameter (None under RFM: nothing is
        fitted); False means the forecast is rough, and the CLI and the page say why."""
        return None if self.method != "bgnbd" else not self.at_boundary


def _number(value: Any, digits: int = 2) -> float | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return None
    return round(float(value), digits)


def _person(row: pd.Series) -> dict[str, Any]:
    p_alive = _number(row["p_alive"], 4)
    return {
        "person_id": row["person_id"],
        "orders": int(row["orders"]),
        "revenue": _number(row["revenue"]),
        "first_order_at": row["first_order_at"].isoformat(),
        "last_order_at": row["last_order_at"].isoformat(),
        "repeat_purchases": int(row["repeat_purchases"]),
        "expected_purchases": _number(row["expected_purchases"], 3),
        "expected_order_value": _number(row["expected_order_value"]),
        "expected_revenue": _number(row["expected_revenue"]),
        "p_alive": p_alive,
        "churn_risk": churn_band(p_alive),
        "rfm": row["rfm"],
        "rfm_score": int(row["rfm_score"]),
    }


def churn_band(p_alive: float | None) -> str | None:
    """high / elevated / moderate / low from the probability alive (None without a model)."""
    if p_alive is None:
        return None
    for low, high, name in CHURN_BANDS:
        if low <= p_alive < high:
            return name
    return "low"


def summary(frame: pd.DataFrame, fit: ValueFit, *, person: str | None, limit: int) -> dict:
    """The answer: method and why, totals, churn bands, and the persons asked for."""
    if person is not None:
        frame = frame[frame["person_id"] == person]
        if frame.empty:
            raise UnknownBuyer(f"{person!r} has no order in the store", field="person")
    modelled = fit.method == "bgnbd"
    order = "expected_revenue" if modelled else "revenue"
    top = frame.sort_values([order, "person_id"], ascending=[False, True]).head(limit)
    bands = []
    if modelled:
        named = frame["p_alive"].map(churn_band)
        for name in ("high", "elevated", "moderate", "low"):
            part = frame[named == name]
            bands.append(
                {
                    "churn_risk": name,
                    "persons": len(part),
                    "revenue": _number(part["revenue"].sum()),
                    "expected_revenue": _number(part["expected_revenue"].sum()),
                }
            )
    return {
        **fit.to_dict(),
        "buyers": len(frame),
        "totals": {
            "revenue": _number(frame["revenue"].sum()),
            "expected_purchases": _number(frame["expected_purchases"].sum(), 1)
            if modelled
            else None,
            "expected_revenue": _number(frame["expected_revenue"].sum()) if modelled else None,
        },
        "churn": bands,
        "persons_listed": [_person(row) for _, row in top.iterrows()],
        "holdout": None,
    }


BREACHED_PERSONS = """
SELECT DISTINCT person_id FROM breaches
WHERE expectation_id = :expectation AND person_id IS NOT NULL
"""


def _breached(kr: Context, frame: pd.DataFrame, expectation: str) -> pd.DataFrame:
    """The rows of the persons breaches of `expectation` hit (an unknown one is refused)."""
    from klantreis.measure.expectations.cases import ensure_cases

    rules = [r.id for r in ensure_cases(kr).rules]
    if expectation not in rules:
        raise UnknownName("expectation", "expectation", expectation, rules)
    hit = kr.engine.fetch(Query(BREACHED_PERSONS, expectation=expectation)).to_pandas()
    return frame[frame["person_id"].isin(hit["person_id"])]


@analysis("value", query=ValueQuery, result=CustomerValue)
def value(
    kr: Context,
    *,
    now: Any = None,
    horizon_weeks: int = HORIZON_WEEKS,
    person: str | None = None,
    expectation: str | None = None,
    limit: int = 20,
) -> CustomerValue:
    """Customer value per buyer: revenue to date, expected purchases and revenue in the
    horizon (BG/NBD with Gamma-Gamma) and the probability alive, or an RFM score where few
    buyers came back; which method and why."""
    if now is None and horizon_weeks == HORIZON_WEEKS:
        fit = ensure_values(kr)
        frame = values_frame(kr)
    else:
        frame, fit = compute_values(kr, now=now, horizon_weeks=horizon_weeks)
    chosen = frame if expectation is None else _breached(kr, frame, expectation)
    found = summary(chosen, fit, person=person, limit=limit)
    found["expectation"] = expectation
    if now is not None or horizon_weeks != HORIZON_WEEKS:
        found["holdout"] = holdout(kr, chosen, fit)
    return CustomerValue.model_validate(found)
