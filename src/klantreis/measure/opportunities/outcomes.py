"""What an opportunity is: the outcomes measured, their units, and one driver's estimate with
its effect and total in words (`describe`)."""

from __future__ import annotations

from dataclasses import dataclass

from klantreis.errors import KlantreisError

REPEAT_DAYS = 90
"""Repeat purchase: another order by the same person within this many days."""


@dataclass(frozen=True)
class Outcome:
    label: str
    unit: str
    """What the effect is counted in, per order."""
    lost: str
    """What the total lost is counted in."""
    scale: float = 1.0
    """Multiplier from the regression's scale to the unit (probability → percentage points)."""


OUTCOMES = {
    "review_score": Outcome("review score (1–5 stars)", "stars", "stars"),
    "nps": Outcome("NPS answer (0–10)", "answer points", "answer points"),
    "repeat_purchase": Outcome(
        f"repeat purchase within {REPEAT_DAYS} days",
        "percentage points",
        "repeat purchases",
        scale=100.0,
    ),
    "conversion": Outcome(
        "reaching the order within the journey",
        "percentage points",
        "orders",
        scale=100.0,
    ),
    "customer_value": Outcome(
        "the customer's expected future revenue",
        "of expected revenue",
        "of expected revenue",
    ),
}
ORDER_OUTCOMES = ("review_score", "nps", "repeat_purchase", "customer_value")
"""Outcomes measured per order; conversion is measured per journey (`measure/conversion.py`)."""
SORT_ORDERS = ("impact", "value")


class OpportunityError(KlantreisError):
    """An unknown outcome."""


@dataclass
class Opportunity:
    title: str
    kind: str
    """expectation, touchpoint or topic."""
    driver: str
    outcome: str
    effect: float
    """Per order, in the outcome's regression scale (stars, NPS points, probability)."""
    ci_low: float
    ci_high: float
    p_value: float
    persons: int
    orders: int
    impact: float
    """Outcome lost in total: −effect × orders affected (positive = worth fixing)."""
    method: str
    unit: str = ""
    effect_text: str = ""
    """The effect with its unit, e.g. "−1.7 stars" (repeat purchase in percentage points)."""
    impact_text: str = ""
    """The total lost with its unit, e.g. "272 stars lost over 160 orders"."""
    rank: int = 0
    """Place in its outcome's list (1 = fix first); 0 when not an opportunity."""
    value_at_stake: float | None = None
    """Expected future revenue of the persons the driver hit (their revenue to date under
    the RFM method): what `--by value` sorts by."""
    currency: str | None = None
    """Of `value_at_stake` and of a customer-value effect."""


def _signed(value: float, digits: int) -> str:
    text = f"{value:+.{digits}f}"
    return text.replace("-", "\u2212")


def describe(o: Opportunity) -> None:
    """Fill in the unit texts of an estimate."""
    spec = OUTCOMES[o.outcome]
    effect = o.effect * spec.scale
    money = o.outcome == "customer_value" and o.currency
    o.unit = f"{o.currency} {spec.unit}" if money else spec.unit
    o.effect_text = f"{_signed(effect, 1 if abs(effect) >= 0.1 else 2)} {o.unit}"
    lost = o.impact
    amount = f"{lost:,.0f}" if abs(lost) >= 10 else f"{lost:,.1f}"
    verb = "lost" if lost >= 0 else "gained"
    what = f"{o.currency} {spec.lost}" if money else spec.lost
    over = "journeys" if o.outcome == "conversion" else "orders"
    o.impact_text = f"{amount.lstrip('-')} {what} {verb} over {o.orders:,} {over}"
