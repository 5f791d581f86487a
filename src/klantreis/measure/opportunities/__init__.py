"""Opportunities: which breaches, touchpoints and topics cost the most, measured on outcomes.

Key-driver analysis per order. Outcomes: the order's review score (1–5), its NPS answer (0–10),
repeat purchase (another order by the same person within 90 days; only orders placed at
least 90 days before the last event count, so late orders are not called one-off) and the
customer's expected future revenue (`measure/value`, when BG/NBD applies). Conversion is the
one outcome per shopping journey instead of per order (`measure/conversion.py`).
Drivers are 0/1 per order: each expectation breached on the order or its journey (the
`breaches` table of the expectations module), each touchpoint the journey passed, each topic
the customer's voice about the order mentions (when voice has been scored) — leaving out the
texts that are the outcome itself (a review's own words for review score, survey comments for
NPS), which would only restate it.

A touchpoint that more than half of the journeys pass becomes its absence ("no carrier in the
journey": the order never shipped), since that is where it can hurt.

Method: per outcome and driver, an ordinary least-squares model controlling for log order value,
product category (top 15, else "other") and region (top 10, else "other"), with
heteroskedasticity-robust (HC3) standard errors. A driver's effect is its coefficient — the
difference in the outcome between orders with and without it at the same order value, category
and region — with its 95 % confidence interval. Drivers are estimated one at a time on purpose:
breaches are nested (an order that never arrives was also late), and a joint model would split
one delivery problem into two smaller ones. As every driver shares the same controls, all of
them are solved in one pass (`measure/drivers.py`: the same estimates and intervals as separate
statsmodels fits). Repeat purchase is a linear probability model, so its effect is in
percentage points. Above `MAX_ORDERS` orders (a million) a fixed hash sample of them is
fitted, so what reaches Python is bounded (`orders.py`); the method text says so.

The ranking rule (`opportunities`): an opportunity is a driver whose whole 95 % interval lies
below zero (it measurably costs the outcome); positive and unproven effects are left out (they
stay in `key_drivers`). Each outcome has its own list, as stars, NPS points and repeat purchases
do not add up; review score first, then NPS, then repeat purchase. Within a list, the order is
the outcome lost in total = −effect × orders affected (e.g. 1.7 stars × 160 late orders = 272
stars), largest first; ties by name. Effects are per order, so the total counts orders, not
persons (a person with two late orders lost stars twice).

Results are stored (`opportunity_results`, one row per persona cut) under a fingerprint of what
they rest on — the model, the judged expectations, the scored voice and the persona
assignments — so the journey map and the dashboard read them instead of computing them again.

When the expectations module is not installed, lateness is computed here from `Order Delivered`
against `promised_delivery_date` (same day counts as on time) and named `late_delivery`.

The package by job: `outcomes` (what is measured, in which unit; an `Opportunity`), `orders`
(the order frame, its drivers and controls, in SQL), `estimates` (the regressions and the
ranking rule), `stored` (`opportunity_results` and its fingerprint), `analysis` (the query, the
result and the runner).
"""

from klantreis.measure.opportunities.analysis import (
    Opportunities,
    OpportunitiesQuery,
    by_value,
    opportunities,
    ranked,
)
from klantreis.measure.opportunities.estimates import (
    MIN_AFFECTED,
    MIN_ORDERS,
    Design,
    designs,
    key_drivers,
    person_values,
)
from klantreis.measure.opportunities.orders import BREACHED, MENTIONED, ORDERS, SAME_ACT, TOUCHED
from klantreis.measure.opportunities.outcomes import (
    ORDER_OUTCOMES,
    OUTCOMES,
    REPEAT_DAYS,
    SORT_ORDERS,
    Opportunity,
    OpportunityError,
    Outcome,
)
from klantreis.measure.opportunities.stored import (
    OPPORTUNITY_RESULTS,
    VERSION,
    Stored,
    refresh_opportunities,
    stored_opportunities,
)

__all__ = [
    "BREACHED",
    "MENTIONED",
    "MIN_AFFECTED",
    "MIN_ORDERS",
    "OPPORTUNITY_RESULTS",
    "ORDERS",
    "ORDER_OUTCOMES",
    "OUTCOMES",
    "REPEAT_DAYS",
    "SAME_ACT",
    "SORT_ORDERS",
    "TOUCHED",
    "VERSION",
    "Design",
    "Opportunities",
    "OpportunitiesQuery",
    "Opportunity",
    "OpportunityError",
    "Outcome",
    "Stored",
    "by_value",
    "designs",
    "key_drivers",
    "opportunities",
    "person_values",
    "ranked",
    "refresh_opportunities",
    "stored_opportunities",
]
