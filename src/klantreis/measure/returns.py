"""Returns: why customers send products back, how the shop decides, how long they wait, and
what a rejected or slow return costs.

Per return request (`Return Requested`, its `reason` and `products`, first per `order_id`): the
shop's decision (`Return Approved` / `Return Rejected` with its `reason`), the product's receipt
(`Return Received`) and the refund (`Order Refunded`) after the request; the person's next
review (`Review Submitted`, `Product Reviewed`) and next order after the request. One scan of
`journey_events` per kind of event, joined on `order_id` or `person_id` (equi-joins with a time
condition): no analysis inside another's hot path.

The period (`start`/`end`) selects requests by when they were made; what followed a request
counts even after the period's end. A cancellation (`Order Cancelled`) is not a return and is
not read here.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import model_serializer

from klantreis.measure.contract import AnalysisResult, PeriodQuery
from klantreis.measure.expectations.stats import mean_difference, proportion_difference, wilson
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    import pandas as pd

    from klantreis.model.context import Context
    from klantreis.store.engines.base import Engine

SLOW_REFUND_DAYS = 14
"""A refund later than this after the request makes a return slow."""
SLOW_APPROVAL_HOURS = 48
"""An approval later than this after the request makes a return slow."""
REPEAT_DAYS = 90
"""Repeat purchase: another order within this many days of the request. Only requests made at
least this long before the newest event are judged, so recent ones do not count as lost."""

RETURNS = """
WITH requested AS (
    SELECT order_id, arg_min(person_id, timestamp) AS person_id,
        min(timestamp) AS requested_at,
        arg_min(coalesce(properties ->> '$.reason', '(none)'), timestamp) AS reason,
        arg_min(CAST(json_extract(properties, '$.products') AS VARCHAR), timestamp) AS products
    FROM journey_events WHERE event = 'Return Requested' AND order_id IS NOT NULL
    GROUP BY order_id
),
asked AS (
    SELECT * FROM requested WHERE :cut
),
followed AS (
    SELECT e.order_id,
        min(e.timestamp) FILTER (WHERE e.event = 'Return Approved') AS approved_at,
        min(e.timestamp) FILTER (WHERE e.event = 'Return Rejected') AS rejected_at,
        arg_min(coalesce(e.properties ->> '$.reason', '(none)'), e.timestamp)
            FILTER (WHERE e.event = 'Return Rejected') AS rejection_reason,
        min(e.timestamp) FILTER (WHERE e.event = 'Return Received') AS received_at,
        min(e.timestamp) FILTER (WHERE e.event = 'Order Refunded') AS refunded_at
    FROM journey_events AS e
    JOIN asked AS q ON q.order_id = e.order_id
    WHERE e.event IN ('Return Approved', 'Return Rejected', 'Return Received', 'Order Refunded')
        AND e.timestamp >= q.requested_at
    GROUP BY e.order_id
),
reviews AS (
    SELECT person_id, timestamp, TRY_CAST(properties ->> '$.rating' AS DOUBLE) AS rating
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Product Reviewed') AND person_id IS NOT NULL
),
next_review AS (
    SELECT q.order_id, arg_min(r.rating, r.timestamp) AS next_rating
    FROM asked AS q JOIN reviews AS r ON r.person_id = q.person_id
    WHERE r.timestamp > q.requested_at AND r.rating IS NOT NULL
    GROUP BY q.order_id
),
orders AS (
    SELECT person_id, order_id, min(timestamp) AS ordered_at FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL AND person_id IS NOT NULL
    GROUP BY person_id, order_id
),
next_order AS (
    SELECT q.order_id, min(o.ordered_at) AS next_order_at
    FROM asked AS q JOIN orders AS o ON o.person_id = q.person_id
    WHERE o.ordered_at > q.requested_at AND o.order_id <> q.order_id
    GROUP BY q.order_id
)
SELECT q.order_id, q.person_id, q.reason, q.requested_at, q.products,
    f.approved_at, f.rejected_at, f.rejection_reason, f.received_at, f.refunded_at,
    v.next_rating, n.next_order_at
FROM asked AS q
LEFT JOIN followed AS f ON f.order_id = q.order_id
LEFT JOIN next_review AS v ON v.order_id = q.order_id
LEFT JOIN next_order AS n ON n.order_id = q.order_id
"""

NEWEST = "SELECT max(timestamp) FROM journey_events"


class ReturnsQuery(PeriodQuery):
    """`kr.returns()`, `klantreis returns`, `GET /api/returns`: requests made in the period."""


class Period(AnalysisResult):
    """The period asked for (requests made in it), as given."""

    start: str | None
    end: str | None


class ReasonShare(AnalysisResult):
    """Requests (or rejections) with one reason, and their share of all."""

    reason: str
    returns: int
    share: float


class CategoryReturns(AnalysisResult):
    """Return requests naming a product of one category: how many, the top reason, all
    reasons."""

    category: str | int | float
    returns: int
    top_reason: str
    reasons: dict[str, int]


class ProductReturns(AnalysisResult):
    """Return requests naming one product: how many, the top reason, all reasons."""

    product_id: str
    returns: int
    top_reason: str
    reasons: dict[str, int]


class WaitingTime(AnalysisResult):
    """Hours from the request to a step: median with a distribution-free 95 % interval, and
    the 90th percentile, over the `n` requests that reached the step."""

    n: int
    median_hours: float | None
    median_ci: list[float] | None
    p90_hours: float | None


class Decisions(AnalysisResult):
    """Requests the shop decided on, and the rejected share with its 95 % (Wilson) interval."""

    decided: int
    approved: int
    rejected: int
    rejected_share: float | None
    ci: list[float] | None


class Difference(AnalysisResult):
    """A group minus quick returns, with its 95 % interval (None bounds: a group of one)."""

    difference: float | None
    low: float | None
    high: float | None


class AgainstQuick(AnalysisResult):
    """A rejected or slow return against a quick one (None: a group without figures)."""

    review_score: Difference | None
    low_review_share: Difference | None
    repeat_share: Difference | None


class AfterReturn(AnalysisResult):
    """Per outcome (`quick`, `slow`, `rejected`): the next review and repeat purchase, and for
    `slow` and `rejected` the difference to `quick` (absent on `quick` itself)."""

    outcome: str
    returns: int
    reviewed: int
    review_score: float | None
    low_review_share: float | None
    repeat_judged: int
    repeat_share: float | None
    against_quick: AgainstQuick | None = None

    @model_serializer(mode="wrap")
    def _without_empty_comparison(self, handler: Any) -> Any:
        """The quick row compares with nothing: its JSON has no `against_quick` key."""
        data = handler(self)
        if self.against_quick is None:
            data.pop("against_quick", None)
        return data


class Returns(AnalysisResult):
    """What `kr.returns()` answers; `as_json()` is `klantreis returns --json` and
    `/api/returns`. `times` is keyed `request_to_approval`, `request_to_rejection`,
    `request_to_received`, `request_to_refund` (empty without requests)."""

    returns: int
    period: Period
    slow_refund_days: int
    slow_approval_hours: int
    repeat_days: int
    notes: list[str]
    reasons: list[ReasonShare]
    categories: list[CategoryReturns]
    products: list[ProductReturns]
    times: dict[str, WaitingTime]
    decisions: Decisions
    rejection_reasons: list[ReasonShare]
    after_return: list[AfterReturn]


@analysis("returns", query=ReturnsQuery, result=Returns)
def returns(kr: Context, start: str | None = None, end: str | None = None) -> Returns:
    """Reasons overall, per category and per product; the shop's decisions (rejected share,
    rejection reasons); times from the request to approval, receipt and refund; and the next
    review and repeat purchase after a rejected or slow return against a quick one."""
    Cut.parse(start, end)  # a bad date is refused before the model is built
    ensure_built(kr)
    return measure_returns(kr.engine, start, end)


def measure_returns(engine: Engine, start: str | None = None, end: str | None = None) -> Returns:
    """`returns` over the model's tables on `engine` (DuckDB or Spark)."""
    cut = Cut.parse(start, end)
    frame = engine.fetch(
        Query(RETURNS, cut=cut.condition(engine, timestamp="requested_at"))
    ).to_pandas()
    newest = engine.scalar(NEWEST)
    total = len(frame)
    result: dict[str, Any] = {
        "returns": total,
        "period": {"start": start, "end": end},
        "slow_refund_days": SLOW_REFUND_DAYS,
        "slow_approval_hours": SLOW_APPROVAL_HOURS,
        "repeat_days": REPEAT_DAYS,
        "notes": [],
    }
    if total == 0:
        result.update(
            reasons=[],
            categories=[],
            products=[],
            times={},
            decisions=_decisions(frame),
            rejection_reasons=[],
            after_return=[],
        )
        return Returns.model_validate(result)
    reasons = _counts(frame["reason"])
    result["reasons"] = [
        {"reason": str(k), "returns": int(v), "share": round(float(v / total), 6)}
        for k, v in reasons.items()
    ]
    items = _items(frame)
    result["categories"] = _by(items, "category")
    result["products"] = _by(items, "product_id")[:200]
    hours = {
        "request_to_approval": _hours(frame, "approved_at"),
        "request_to_rejection": _hours(frame, "rejected_at"),
        "request_to_received": _hours(frame, "received_at"),
        "request_to_refund": _hours(frame, "refunded_at"),
    }
    result["times"] = {name: _spread(values) for name, values in hours.items()}
    result["decisions"] = _decisions(frame)
    rejected = _counts(frame.loc[_rejected(frame), "rejection_reason"])
    result["rejection_reasons"] = [
        {"reason": str(k), "returns": int(v), "share": round(float(v / rejected.sum()), 6)}
        for k, v in rejected.items()
    ]
    frame["outcome"] = _outcomes(frame, hours, newest)
    result["after_return"] = _after_return(frame, newest)
    if not result["decisions"]["decided"]:
        result["notes"].append(
            "No Return Approved or Return Rejected events: the shop's decisions, the rejected "
            "share and approval times are not measured; a return is slow by its refund alone."
        )
    return Returns.model_validate(result)


def _items(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    lines = []
    for row in frame.itertuples():
        listed = json.loads(row.products) if isinstance(row.products, str) else []
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and item.get("product_id") is not None:
                lines.append(
                    {
                        "order_id": row.order_id,
                        "product_id": str(item["product_id"]),
                        "category": item.get("category"),
                        "reason": row.reason,
                    }
                )
    return pd.DataFrame(lines, columns=["order_id", "product_id", "category", "reason"])


def _hours(frame: pd.DataFrame, column: str) -> pd.Series:
    return (frame[column] - frame["requested_at"]).dt.total_seconds() / 3600.0


def _rejected(frame: pd.DataFrame) -> pd.Series:
    """Rejected: a rejection and no approval before it (a rejection later reversed by an
    approval counts as approved)."""
    rejected = frame["rejected_at"].notna()
    approved_first = frame["approved_at"].notna() & (
        frame["approved_at"] <= frame["rejected_at"].fillna(frame["approved_at"])
    )
    return rejected & ~approved_first


def _decisions(frame: pd.DataFrame) -> dict[str, Any]:
    """Requests the shop decided on, rejected, and the rejected share with its 95 % interval."""
    if frame.empty:
        return {"decided": 0, "approved": 0, "rejected": 0, "rejected_share": None, "ci": None}
    rejected = int(_rejected(frame).sum())
    decided = int((frame["approved_at"].notna() | frame["rejected_at"].notna()).sum())
    low, high = wilson(rejected, decided)
    return {
        "decided": decided,
        "approved": decided - rejected,
        "rejected": rejected,
        "rejected_share": round(rejected / decided, 6) if decided else None,
        "ci": None if low is None else [round(low, 6), round(high, 6)],  # type: ignore[arg-type]
    }


def _outcomes(frame: pd.DataFrame, hours: dict[str, pd.Series], newest: Any) -> pd.Series:
    """`rejected`, `slow` (approved after 48 h or refunded after 14 days, or no refund 14 days
    on while the store records refunds), `quick` (refunded within 14 days, approved within
    48 h when approvals are recorded), `open` (too recent to tell)."""
    import numpy as np

    rejected = _rejected(frame).to_numpy()
    approval, refund = hours["request_to_approval"], hours["request_to_refund"]
    late_approval = (approval > SLOW_APPROVAL_HOURS).to_numpy()
    late_refund = (refund > SLOW_REFUND_DAYS * 24).to_numpy()
    waited = (newest - frame["requested_at"]).dt.total_seconds() / 3600.0
    still_waiting = (
        (refund.isna() & (waited > SLOW_REFUND_DAYS * 24)).to_numpy()
        if refund.notna().any()
        else np.zeros(len(frame), dtype=bool)
    )
    quick = (refund <= SLOW_REFUND_DAYS * 24).to_numpy()
    out = np.where(
        rejected,
        "rejected",
        np.where(
            late_approval | late_refund | still_waiting, "slow", np.where(quick, "quick", "open")
        ),
    )
    import pandas as pd

    return pd.Series(out, index=frame.index, dtype=object)


def _after_return(frame: pd.DataFrame, newest: Any) -> list[dict[str, Any]]:
    """Per outcome: the next review (mean, 1–2★ share) and repeat purchase within 90 days, and
    for `rejected` and `slow` the difference to `quick` with a 95 % interval."""
    horizon = newest - timedelta(days=REPEAT_DAYS) if newest is not None else None
    groups: dict[str, dict[str, Any]] = {}
    for outcome in ("quick", "slow", "rejected"):
        part = frame[frame["outcome"] == outcome]
        rated = part["next_rating"].dropna()
        judged = part[part["requested_at"] <= horizon] if horizon is not None else part[:0]
        window = judged["requested_at"] + timedelta(days=REPEAT_DAYS)
        again = (judged["next_order_at"].notna() & (judged["next_order_at"] <= window)).astype(
            float
        )
        groups[outcome] = {
            "outcome": outcome,
            "returns": len(part),
            "reviewed": len(rated),
            "review_score": _mean(rated),
            "review_variance": None if len(rated) < 2 else float(rated.var()),
            "low_review_share": _mean((rated <= 2).astype(float)),
            "repeat_judged": len(judged),
            "repeat_share": _mean(again),
        }
    rows = []
    base = groups["quick"]
    for outcome, g in groups.items():
        row = {k: v for k, v in g.items() if k != "review_variance"}
        if outcome != "quick":
            review = mean_difference(
                (base["reviewed"], base["review_score"], base["review_variance"]),
                (g["reviewed"], g["review_score"], g["review_variance"]),
            )
            low = proportion_difference(
                (base["reviewed"], base["low_review_share"]), (g["reviewed"], g["low_review_share"])
            )
            repeat = proportion_difference(
                (base["repeat_judged"], base["repeat_share"]),
                (g["repeat_judged"], g["repeat_share"]),
            )
            row["against_quick"] = {
                "review_score": _finite(review),
                "low_review_share": _finite(low),
                "repeat_share": _finite(repeat),
            }
        rows.append(row)
    return rows


def _finite(difference: dict[str, Any] | None) -> dict[str, Any] | None:
    """A difference whose interval could not be computed (a group of one) says so: None bounds."""
    if difference is None:
        return None
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in difference.items()}


def _counts(values: pd.Series) -> pd.Series:
    """Counts per value, most first and ties by value, whatever order the engine's rows came
    in."""
    counts = values.value_counts()
    order = sorted(counts.index, key=lambda k: (-counts[k], str(k)))
    return counts.reindex(order)


def _mean(values: pd.Series) -> float | None:
    return None if values.empty else round(float(values.mean()), 6)


def _by(items: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    rows = []
    for value, group in items.groupby(key, dropna=True):
        counts = _counts(group["reason"])
        rows.append(
            {
                key: value,
                "returns": int(group["order_id"].nunique()),
                "top_reason": str(counts.index[0]),
                "reasons": {str(k): int(v) for k, v in counts.items()},
            }
        )
    return sorted(rows, key=lambda r: (-r["returns"], str(r[key])))


def _spread(hours: pd.Series) -> dict[str, Any]:
    """Median and 90th percentile, with a distribution-free 95 % interval of the median (the
    order statistics a binomial(n, ½) puts around it)."""
    known = hours.dropna().sort_values().to_numpy()
    n = len(known)
    if n == 0:
        return {"n": 0, "median_hours": None, "median_ci": None, "p90_hours": None}
    import numpy as np
    from scipy import stats

    k = max(int(stats.binom.ppf(0.025, n, 0.5)), 1)
    ci = None if n < 6 else [round(float(known[k - 1]), 3), round(float(known[n - k]), 3)]
    return {
        "n": n,
        "median_hours": round(float(np.median(known)), 3),
        "median_ci": ci,
        "p90_hours": round(float(np.quantile(known, 0.9)), 3),
    }
