"""The order frame the regressions run on: per order its outcomes (review score, NPS, repeat
purchase), value, category and region (`ORDERS`), its 0/1 drivers (breaches, touchpoints,
topics: `driver_columns`) and the controls (`controls`). Equi-joins only; `BREACHED` unions
two of them instead of an OR join."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


MAX_ORDERS = 1_000_000
"""Above this many orders a fixed hash sample of them (`hash(order_id) % modulus = 0`, as
conversion samples its journeys) is fitted, so what reaches Python stays bounded at any size:
at 50M events there are about half a million orders, so every order counts up to there. A
driver's interval narrows as 1/√(orders with it): at a million orders one on 1 % of them (ten
thousand) has a standard error near 1 % of the outcome's spread (0.01 stars per star of
spread), far finer than the effects ranked (tenths of a star, percentage points)."""

ORDER_COUNT = """
SELECT count(DISTINCT order_id) FROM journey_events
WHERE event = 'Order Completed' AND order_id IS NOT NULL
"""

FRAME_COLUMNS = (
    "person_id",
    "order_value",
    "category",
    "region",
    "review_score",
    "nps",
    "repeat_purchase",
    "late_delivery",
)
"""What the regressions use of `ORDERS` (its ids and times stay in SQL)."""


def order_modulus(kr: Context) -> int:
    """1 (every order), or the m of the 1-in-m hash sample that keeps `MAX_ORDERS`."""
    placed = int(kr.engine.scalar(ORDER_COUNT) or 0)
    return max(1, -(-placed // MAX_ORDERS))


def _sampled(tree: exp.Query, alias: str, modulus: int) -> exp.Select:
    select = exp.select("*").from_(tree.subquery(alias))
    if modulus > 1:
        select = select.where(exp.condition(f"hash({alias}.order_id) % :modulus = 0"))
    return select


def order_frame(kr: Context, cut: Cut, modulus: int = 1) -> tuple[pd.DataFrame, pa.ChunkedArray]:
    """The orders of the cut (a 1-in-`modulus` sample), and their ids in the same order.

    The ids stay Arrow strings (looked up by `driver_columns`, never pandas objects); the
    person, category and region come as categoricals (one string per distinct value): at
    50M events every per-order object string was another few hundred MB beside DuckDB.
    """
    tree = statement(Query(ORDERS, repeat_seconds=REPEAT_DAYS * 86400).tree)
    select = _sampled(tree, "o", modulus).where(cut.condition(kr.engine, timestamp="ordered_at"))
    table = kr.engine.fetch(Query(select, modulus=modulus))
    frame = table.select(list(FRAME_COLUMNS)).to_pandas(strings_to_categorical=True)
    return frame, table.column("order_id")


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


def _present(order_ids: pa.ChunkedArray, rows: pa.Table) -> Iterator[tuple[str, np.ndarray]]:
    """Per driver (in name order, as a group-by would give them) a 0/1 mask over the orders.

    Arrow looks each row's order up (`index_in`) and numbers the drivers (`dictionary_encode`),
    so the rows (one per order and touchpoint: millions at 50M events) never become pandas
    objects; only the n × drivers mask of booleans is kept.
    """
    if rows.num_rows == 0:
        return
    position = pc.index_in(rows.column("order_id"), value_set=order_ids)
    found = pc.is_valid(position)
    encoded = pc.dictionary_encode(rows.column("driver").filter(found)).combine_chunks()
    names = encoded.dictionary.to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    places = position.filter(found).to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    for code in sorted(range(len(names)), key=lambda c: str(names[c])):
        if names[code] is None:
            continue
        present = np.zeros(len(order_ids), dtype=bool)
        present[places[order[bounds[code] : bounds[code + 1]]]] = True
        yield str(names[code]), present


def driver_columns(
    kr: Context, orders: pd.DataFrame, order_ids: pa.ChunkedArray, modulus: int = 1
) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """0/1 driver columns (booleans) per order and, per column, (kind, title); `order_ids`
    are the orders' ids in the frame's order, `modulus` the order sample's (`order_frame`)."""
    engine = kr.engine
    columns: dict[str, np.ndarray] = {}
    about: dict[str, tuple[str, str]] = {}

    def fetch(sql: str) -> pa.Table:
        return engine.fetch(
            Query(_sampled(statement(Query(sql).tree), "d", modulus), modulus=modulus)
        )

    def add(kind: str, rows: pa.Table, titles: dict[str, str]) -> None:
        for driver, present in _present(order_ids, rows):
            title = titles.get(driver, driver)
            if kind == "touchpoint" and present.mean() > 0.5:
                # A touchpoint nearly every journey passes matters where it is missing.
                present, driver, title = ~present, f"no {driver}", f"No {driver} in the journey"
            column = f"{kind}:{driver}"
            columns[column] = present
            about[column] = (kind, title)

    titles = expectation_titles(kr)
    if titles is not None and engine.has_table("breaches"):
        add("expectation", fetch(BREACHED), titles)
    else:
        columns["expectation:late_delivery"] = orders["late_delivery"].to_numpy() == 1
        about["expectation:late_delivery"] = (
            "expectation",
            "Late delivery (delivered after the promised date)",
        )
    touched = fetch(TOUCHED)
    touchpoints = pc.unique(touched.column("driver")).to_pylist()
    add("touchpoint", touched, {t: f"Touchpoint: {t}" for t in touchpoints if t is not None})
    del touched
    if engine.has_table("voice") and engine.has_table("voice_topics"):
        mentioned = fetch(MENTIONED)
        topics = pc.unique(mentioned.column("driver")).to_pylist()
        titles = {t: f"Customers mention {t}" for t in topics if t is not None}
        for outcome, same_act in SAME_ACT.items():
            other = pc.invert(pc.is_in(mentioned.column("event"), pa.array(same_act, pa.string())))
            add(f"topic|{outcome}", mentioned.filter(pc.fill_null(other, True)), titles)
    frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=range(len(orders)))
    return frame, about


def controls(orders: pd.DataFrame) -> pd.DataFrame:
    value = orders["order_value"].astype(float)
    controls = pd.DataFrame({"log_order_value": np.log1p(value.fillna(value.median()))})
    for column, top in (("category", TOP_CATEGORIES), ("region", TOP_REGIONS)):
        # object of the categorical's own strings (a reference per order, not a copy)
        values = orders[column].astype(object).fillna("unknown").astype(str)
        keep = values.value_counts().index[:top]
        values = values.where(values.isin(keep), "other")
        dummies = pd.get_dummies(values, prefix=column, drop_first=True, dtype=float)
        controls = pd.concat([controls, dummies], axis=1)
    return controls
