"""Opportunities: which breaches, touchpoints and topics cost the most, measured on outcomes.

Key-driver analysis per order. Outcomes: the order's review score (1–5), its NPS answer (0–10)
and repeat purchase (another order by the same person within 90 days; only orders placed at
least 90 days before the last event count, so late orders are not called one-off).
Drivers are 0/1 per order: each expectation breached on the order or its journey (the
`breaches` table of the expectations module), each touchpoint the journey passed, each topic
the customer's voice about the order mentions (when voice has been scored) — leaving out the
texts that are the outcome itself (a review's own words for review score, survey comments for
NPS), which would only restate it.

A touchpoint that more than half of the journeys pass becomes its absence ("no carrier in the
journey": the order never shipped), since that is where it can hurt.

Method: one ordinary least-squares model per outcome and driver, controlling for log order
value, product category (top 15, else "other") and region (top 10, else "other"), with
heteroskedasticity-robust (HC3) standard errors (statsmodels). A driver's effect is its
coefficient — the difference in the outcome between orders with and without it at the same
order value, category and region — with its 95 % confidence interval. Drivers are estimated one
at a time on purpose: breaches are nested (an order that never arrives was also late), and a
joint model would split one delivery problem into two smaller ones. Repeat purchase is a
linear probability model, so its effect is in probability points. Per outcome (review score,
then NPS, then repeat purchase, as their units differ) the list is ranked by the outcome lost
in total (−effect × orders affected) among drivers whose interval lies below zero, then the
rest by p-value.

When the expectations module is not installed, lateness is computed here from `Order Delivered`
against `promised_delivery_date` (same day counts as on time) and named `late_delivery`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

REPEAT_DAYS = 90
MIN_AFFECTED = 20
"""A driver needs this many orders with it (and without it) to be estimated at all."""
MIN_ORDERS = 50
TOP_CATEGORIES = 15
TOP_REGIONS = 10
OUTCOMES = {
    "review_score": "review score (1–5 stars)",
    "nps": "NPS answer (0–10)",
    "repeat_purchase": f"repeat purchase within {REPEAT_DAYS} days (probability)",
}

ORDERS = """
WITH placed AS (
    SELECT order_id, person_id, journey_id, timestamp AS ordered_at,
        coalesce(TRY_CAST(properties ->> '$.total' AS DOUBLE),
                 TRY_CAST(properties ->> '$.revenue' AS DOUBLE)) AS order_value,
        coalesce(properties ->> '$.products[0].category', properties ->> '$.category')
            AS category,
        properties ->> '$.region' AS region,
        TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP) AS promised_at
    FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY timestamp, message_id) = 1
),
delivered AS (
    SELECT order_id, min(timestamp) AS delivered_at,
        max(TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP)) AS promised_at
    FROM journey_events WHERE event = 'Order Delivered' AND order_id IS NOT NULL
    GROUP BY order_id
),
reviews AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS review_score
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Product Reviewed') AND order_id IS NOT NULL
    GROUP BY order_id
),
nps AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.score' AS DOUBLE)) AS nps
    FROM journey_events
    WHERE event = 'Survey Answered' AND properties ->> '$.kind' = 'nps' AND order_id IS NOT NULL
    GROUP BY order_id
),
horizon AS (SELECT max(timestamp) AS last_seen FROM journey_events)
SELECT p.order_id, p.person_id, p.journey_id, p.ordered_at, p.order_value, p.category,
    p.region, r.review_score, n.nps,
    CASE WHEN date_diff('second', p.ordered_at, h.last_seen) < :repeat_seconds THEN NULL
         WHEN EXISTS (SELECT 1 FROM placed AS later
                      WHERE later.person_id = p.person_id AND later.order_id <> p.order_id
                        AND later.ordered_at > p.ordered_at
                        AND date_diff('second', p.ordered_at, later.ordered_at)
                            <= :repeat_seconds)
         THEN 1.0 ELSE 0.0 END AS repeat_purchase,
    CASE WHEN d.delivered_at IS NULL OR coalesce(d.promised_at, p.promised_at) IS NULL THEN 0
         WHEN CAST(d.delivered_at AS DATE) > CAST(coalesce(d.promised_at, p.promised_at) AS DATE)
         THEN 1 ELSE 0 END AS late_delivery
FROM placed AS p
CROSS JOIN horizon AS h
LEFT JOIN delivered AS d ON d.order_id = p.order_id
LEFT JOIN reviews AS r ON r.order_id = p.order_id
LEFT JOIN nps AS n ON n.order_id = p.order_id
"""

BREACHED = """
SELECT DISTINCT o.order_id, b.expectation_id AS driver
FROM journey_events AS o
JOIN breaches AS b
  ON b.order_id = o.order_id OR (b.order_id IS NULL AND b.journey_id = o.journey_id)
WHERE o.event = 'Order Completed' AND o.order_id IS NOT NULL
"""

TOUCHED = """
SELECT DISTINCT o.order_id, e.touchpoint AS driver
FROM journey_events AS o
JOIN journey_events AS e ON e.journey_id = o.journey_id
WHERE o.event = 'Order Completed' AND o.order_id IS NOT NULL AND e.touchpoint IS NOT NULL
"""

MENTIONED = """
SELECT DISTINCT v.order_id, t.topic AS driver, v.event
FROM voice AS v JOIN voice_topics AS t ON t.message_id = v.message_id
WHERE v.order_id IS NOT NULL AND t.topic IS NOT NULL
"""
SAME_ACT = {
    "review_score": ("Review Submitted", "Product Reviewed"),
    "nps": ("Survey Answered",),
    "repeat_purchase": (),
}
"""Texts that are the outcome itself: a review's own words restate its stars, so topics for
review score come from other texts about the order (tickets, chats, surveys), and so on."""


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
    ci_low: float
    ci_high: float
    p_value: float
    persons: int
    orders: int
    impact: float
    """Outcome lost in total: −effect × orders affected (positive = worth fixing)."""
    method: str


def _orders(kr: Context, cut: Cut) -> pd.DataFrame:
    tree = Query(ORDERS, repeat_seconds=REPEAT_DAYS * 86400).tree
    select = (
        exp.select("*")
        .from_(tree.subquery("o"))
        .where(cut.condition(kr.engine, timestamp="ordered_at"))
    )
    return kr.engine.fetch(Query(select)).to_pandas()


def _expectation_titles(kr: Context) -> dict[str, str] | None:
    """Judge expectations (when that module is installed) and return id -> title."""
    try:
        from klantreis.measure.expectations.cases import ensure_cases
    except ImportError:
        return None
    case_set = ensure_cases(kr)
    titles = {}
    for rule in case_set.rules:
        title = getattr(rule, "title", None)
        titles[rule.id] = title.get("en", rule.id) if isinstance(title, dict) else rule.id
    return titles


def _drivers(kr: Context, orders: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """0/1 driver columns per order and, per column, (kind, title)."""
    engine = kr.engine
    index = pd.Index(orders["order_id"])
    columns: dict[str, pd.Series] = {}
    about: dict[str, tuple[str, str]] = {}

    def add(kind: str, rows: pd.DataFrame, titles: dict[str, str]) -> None:
        if rows.empty:
            return
        for driver, group in rows.groupby("driver"):
            present = index.isin(group["order_id"])
            title = titles.get(str(driver), str(driver))
            if kind == "touchpoint" and present.mean() > 0.5:
                # A touchpoint nearly every journey passes matters where it is missing.
                present, driver, title = ~present, f"no {driver}", f"No {driver} in the journey"
            column = f"{kind}:{driver}"
            columns[column] = pd.Series(present.astype(float), index=index)
            about[column] = (kind, title)

    titles = _expectation_titles(kr)
    if titles is not None and engine.has_table("breaches"):
        add("expectation", engine.fetch(BREACHED).to_pandas(), titles)
    else:
        columns["expectation:late_delivery"] = pd.Series(
            orders["late_delivery"].to_numpy(dtype=float), index=index
        )
        about["expectation:late_delivery"] = (
            "expectation",
            "Late delivery (delivered after the promised date)",
        )
    touched = engine.fetch(TOUCHED).to_pandas()
    add("touchpoint", touched, {t: f"Touchpoint: {t}" for t in touched["driver"].unique()})
    if engine.has_table("voice") and engine.has_table("voice_topics"):
        mentioned = engine.fetch(MENTIONED).to_pandas()
        titles = {t: f"Customers mention {t}" for t in mentioned["driver"].unique()}
        for outcome, same_act in SAME_ACT.items():
            add(f"topic|{outcome}", mentioned[~mentioned["event"].isin(same_act)], titles)
    frame = pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)
    return frame.reset_index(drop=True), about


def _controls(orders: pd.DataFrame) -> pd.DataFrame:
    value = orders["order_value"].astype(float)
    controls = pd.DataFrame({"log_order_value": np.log1p(value.fillna(value.median()))})
    for column, top in (("category", TOP_CATEGORIES), ("region", TOP_REGIONS)):
        values = orders[column].fillna("unknown").astype(str)
        keep = values.value_counts().index[:top]
        values = values.where(values.isin(keep), "other")
        dummies = pd.get_dummies(values, prefix=column, drop_first=True, dtype=float)
        controls = pd.concat([controls, dummies], axis=1)
    return controls


def key_drivers(
    kr: Context, *, persona: str | None = None, outcome: str | None = None
) -> list[Opportunity]:
    """Every driver's adjusted effect on every outcome the store has data for."""
    import statsmodels.api as sm

    if outcome is not None and outcome not in OUTCOMES:
        raise OpportunityError(f"outcome: unknown outcome {outcome!r} (use {', '.join(OUTCOMES)})")
    ensure_built(kr)
    cut = Cut(persona=persona)
    orders = _orders(kr, cut)
    if orders.empty:
        return []
    drivers, about = _drivers(kr, orders)
    controls = _controls(orders)
    found: list[Opportunity] = []
    for name in [outcome] if outcome else list(OUTCOMES):
        y = pd.to_numeric(orders[name], errors="coerce").astype(float)
        rows = y.notna().to_numpy()
        if rows.sum() < MIN_ORDERS or y[rows].nunique() < 2:
            continue
        d = drivers[rows]
        d = d[
            [c for c in d.columns if not c.startswith("topic|") or c.startswith(f"topic|{name}:")]
        ]
        counts = d.sum()
        keep = [c for c in d.columns if MIN_AFFECTED <= counts[c] <= rows.sum() - MIN_AFFECTED]
        if not keep:
            continue
        c = controls[rows]
        c = c.loc[:, c.std() > 0]
        persons = orders.loc[rows, "person_id"].to_numpy()
        binary = set(y[rows].unique()) <= {0.0, 1.0}
        outcome_values = y[rows].to_numpy()
        for column in keep:
            kind, title = about[column]
            kind = kind.split("|")[0]
            hit = d[column].to_numpy() == 1
            if binary and min(outcome_values[hit].sum(), (1 - outcome_values[hit]).sum()) < 5:
                # With (almost) no events among the affected orders, robust errors collapse
                # to near zero and the interval would claim a certainty the data lacks.
                continue
            x = sm.add_constant(pd.concat([d[[column]], c], axis=1), has_constant="add")
            fit = sm.OLS(y[rows].to_numpy(), x.to_numpy(dtype=float)).fit(cov_type="HC3")
            low, high = fit.conf_int(0.05)[1]
            effect = float(fit.params[1])
            found.append(
                Opportunity(
                    title=title,
                    kind=kind,
                    driver=column.split(":", 1)[1],
                    outcome=name,
                    effect=round(effect, 4),
                    ci_low=round(float(low), 4),
                    ci_high=round(float(high), 4),
                    p_value=float(fit.pvalues[1]),
                    persons=len(set(persons[hit])),
                    orders=int(hit.sum()),
                    impact=round(-effect * int(hit.sum()), 2),
                    method=f"OLS per driver, HC3 errors; controls: log order value, category, "
                    f"region; n={int(rows.sum())} orders",
                )
            )
    rank = {name: i for i, name in enumerate(OUTCOMES)}
    return sorted(
        found,
        key=lambda o: (rank[o.outcome], o.ci_high >= 0, -o.impact if o.ci_high < 0 else o.p_value),
    )


@analysis("opportunities")
def opportunities(
    kr: Context, *, persona: str | None = None, outcome: str | None = None
) -> list[dict[str, Any]]:
    """What to fix first: drivers ranked by the outcome they cost, with the evidence."""
    return [asdict(o) for o in key_drivers(kr, persona=persona, outcome=outcome)]
