"""Returns: why customers send products back, how long they wait, and what waiting costs.

From `Return Requested` (its `reason` and `products`), `Return Received` and `Order Refunded`
(joined on `order_id`), and the order's `Review Submitted`. One scan of `journey_events` for
these four events, grouped by order: equi-joins only, no analysis inside another's hot path.
A cancellation (`Order Cancelled`) is not a return and is not read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.contract import AnalysisQuery
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

SLOW_REFUND_DAYS = 14
"""A refund later than this after the request counts as slow."""

RETURNS = """
WITH requested AS (
    SELECT order_id, min(timestamp) AS requested_at,
        arg_min(coalesce(properties ->> '$.reason', '(none)'), timestamp) AS reason,
        arg_min(json_extract(properties, '$.products'), timestamp) AS products
    FROM journey_events WHERE event = 'Return Requested' AND order_id IS NOT NULL
    GROUP BY order_id
),
received AS (
    SELECT order_id, min(timestamp) AS received_at FROM journey_events
    WHERE event = 'Return Received' AND order_id IS NOT NULL GROUP BY order_id
),
refunded AS (
    SELECT order_id, min(timestamp) AS refunded_at FROM journey_events
    WHERE event = 'Order Refunded' AND order_id IS NOT NULL GROUP BY order_id
),
reviewed AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS rating
    FROM journey_events
    WHERE event = 'Review Submitted' AND order_id IS NOT NULL GROUP BY order_id
)
SELECT q.order_id, q.reason, q.requested_at,
    date_diff('second', q.requested_at, r.received_at) / 3600.0 AS hours_to_received,
    date_diff('second', q.requested_at, f.refunded_at) / 3600.0 AS hours_to_refund,
    CAST(q.products AS VARCHAR) AS products, v.rating
FROM requested AS q
LEFT JOIN received AS r ON r.order_id = q.order_id
LEFT JOIN refunded AS f ON f.order_id = q.order_id
LEFT JOIN reviewed AS v ON v.order_id = q.order_id
"""


class ReturnsQuery(AnalysisQuery):
    """`kr.returns()`, `klantreis returns`, `GET /api/returns`: no parameters."""


@analysis("returns", query=ReturnsQuery, result=dict)
def returns(kr: Context) -> dict[str, Any]:
    """Reasons overall, per category and per product; times to receipt and refund; the review
    after a slow refund against one after a quick refund."""
    import json

    import pandas as pd

    ensure_built(kr)
    frame = kr.engine.fetch(Query(RETURNS)).to_pandas()
    total = len(frame)
    result: dict[str, Any] = {
        "returns": total,
        "slow_refund_days": SLOW_REFUND_DAYS,
        "notes": [
            "Return approvals and rejections have no event in the vocabulary yet: "
            "times run from the request to the product's receipt and to the refund."
        ],
    }
    if total == 0:
        result.update(reasons=[], categories=[], products=[], times={}, after_refund=[])
        return result
    reasons = frame["reason"].value_counts()
    result["reasons"] = [
        {"reason": str(k), "returns": int(v), "share": round(v / total, 6)}
        for k, v in reasons.items()
    ]
    lines = []
    for row in frame.itertuples():
        for item in json.loads(row.products) if row.products else []:
            if isinstance(item, dict) and item.get("product_id") is not None:
                lines.append(
                    {
                        "order_id": row.order_id,
                        "product_id": str(item["product_id"]),
                        "category": item.get("category"),
                        "reason": row.reason,
                    }
                )
    items = pd.DataFrame(lines, columns=["order_id", "product_id", "category", "reason"])
    result["categories"] = _by(items, "category")
    result["products"] = _by(items, "product_id")[:200]
    result["times"] = {
        name: _spread(frame[column])
        for name, column in (
            ("request_to_received", "hours_to_received"),
            ("request_to_refund", "hours_to_refund"),
        )
    }
    slow = frame["hours_to_refund"] > SLOW_REFUND_DAYS * 24
    after = []
    for label, part in (
        ("slow", frame[slow]),
        ("quick", frame[~slow & frame["hours_to_refund"].notna()]),
    ):
        rated = part["rating"].dropna()
        after.append(
            {
                "refund": label,
                "returns": len(part),
                "reviewed": len(rated),
                "review_score": None if rated.empty else round(float(rated.mean()), 6),
                "low_review_share": None if rated.empty else round(float((rated <= 2).mean()), 6),
            }
        )
    result["after_refund"] = after
    return result


def _by(items: Any, key: str) -> list[dict[str, Any]]:
    rows = []
    for value, group in items.groupby(key, dropna=True):
        counts = group["reason"].value_counts()
        rows.append(
            {
                key: value,
                "returns": int(group["order_id"].nunique()),
                "top_reason": str(counts.index[0]),
                "reasons": {str(k): int(v) for k, v in counts.items()},
            }
        )
    return sorted(rows, key=lambda r: (-r["returns"], str(r[key])))


def _spread(hours: Any) -> dict[str, Any]:
    known = hours.dropna()
    if known.empty:
        return {"n": 0, "median_hours": None, "p90_hours": None}
    return {
        "n": len(known),
        "median_hours": round(float(known.median()), 3),
        "p90_hours": round(float(known.quantile(0.9)), 3),
    }
