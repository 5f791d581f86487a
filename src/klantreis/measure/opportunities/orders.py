"""The order frame the regressions run on: per order its outcomes (review score, NPS, repeat
purchase), value, category and region (`ORDERS`), its 0/1 drivers (breaches, touchpoints,
topics: `driver_columns`) and the controls (`controls`). Equi-joins only; `BREACHED` unions
two of them instead of an OR join."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlglot import exp

from klantreis.measure.filters import Cut
from klantreis.measure.opportunities.outcomes import REPEAT_DAYS
from klantreis.store.query import Query, statement

if TYPE_CHECKING:
    from klantreis.model.context import Context

TOP_CATEGORIES = 15
TOP_REGIONS = 10

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
WITH orders AS (
    SELECT DISTINCT order_id, journey_id FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
)
SELECT o.order_id, b.expectation_id AS driver
FROM orders AS o JOIN breaches AS b ON b.order_id = o.order_id
UNION
SELECT o.order_id, b.expectation_id AS driver
FROM orders AS o JOIN breaches AS b ON b.journey_id = o.journey_id
WHERE b.order_id IS NULL
"""
"""A breach counts for the order it names, or (naming none) for every order of its journey:
two equi-joins unioned, as an OR join cannot be hashed and costs orders × breaches."""

TOUCHED = """
WITH orders AS (
    SELECT DISTINCT order_id, journey_id FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
),
passed AS (
    SELECT DISTINCT journey_id, touchpoint FROM journey_events WHERE touchpoint IS NOT NULL
)
SELECT DISTINCT o.order_id, p.touchpoint AS driver
FROM orders AS o JOIN passed AS p ON p.journey_id = o.journey_id
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
    "customer_value": (),
}
"""Texts that are the outcome itself: a review's own words restate its stars, so topics for
review score come from other texts about the order (tickets, chats, surveys), and so on."""


def order_frame(kr: Context, cut: Cut) -> pd.DataFrame:
    tree = statement(Query(ORDERS, repeat_seconds=REPEAT_DAYS * 86400).tree)
    select = (
        exp.select("*")
        .from_(tree.subquery("o"))
        .where(cut.condition(kr.engine, timestamp="ordered_at"))
    )
    return kr.engine.fetch(Query(select)).to_pandas()


def expectation_titles(kr: Context) -> dict[str, str] | None:
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


def driver_columns(
    kr: Context, orders: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """0/1 driver columns per order and, per column, (kind, title)."""
    engine = kr.engine
    index = pd.Index(orders["order_id"])
    columns: dict[str, pd.Series] = {}
    about: dict[str, tuple[str, str]] = {}

    def add(kind: str, rows: pd.DataFrame, titles: dict[str, str]) -> None:
        if rows.empty:
            return
        position = index.get_indexer(rows["order_id"])
        rows = rows.assign(position=position)[position >= 0]
        for driver, group in rows.groupby("driver"):
            present = np.zeros(len(index), dtype=bool)
            present[group["position"].to_numpy()] = True
            title = titles.get(str(driver), str(driver))
            if kind == "touchpoint" and present.mean() > 0.5:
                # A touchpoint nearly every journey passes matters where it is missing.
                present, driver, title = ~present, f"no {driver}", f"No {driver} in the journey"
            column = f"{kind}:{driver}"
            columns[column] = pd.Series(present.astype(float), index=index)
            about[column] = (kind, title)

    titles = expectation_titles(kr)
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


def controls(orders: pd.DataFrame) -> pd.DataFrame:
    value = orders["order_value"].astype(float)
    controls = pd.DataFrame({"log_order_value": np.log1p(value.fillna(value.median()))})
    for column, top in (("category", TOP_CATEGORIES), ("region", TOP_REGIONS)):
        values = orders[column].fillna("unknown").astype(str)
        keep = values.value_counts().index[:top]
        values = values.where(values.isin(keep), "other")
        dummies = pd.get_dummies(values, prefix=column, drop_first=True, dtype=float)
        controls = pd.concat([controls, dummies], axis=1)
    return controls
