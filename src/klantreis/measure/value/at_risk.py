"""Revenue at risk: the customer value of the persons an expectation's breaches hit.

Per expectation: the buyers with a breach of it (in the period), their expected future revenue
(BG/NBD with Gamma-Gamma; none under the RFM method) and their revenue to date. When the
stored opportunities measured that the breach costs repeat purchases, the lost part is those
repeat purchases lost times the breached buyers' mean expected order value: what the breach
takes, not only what stands next to it. Read from the stored `customer_values` and the stored
opportunities: nothing here fits or ranks anything itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlglot import exp

from klantreis.measure.value.table import ValueFit, ensure_values, values_frame
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

BREACHED = """
SELECT expectation_id, person_id, count(*) AS breaches
FROM breaches WHERE person_id IS NOT NULL AND :cut
GROUP BY expectation_id, person_id
"""


def _lost_purchases(kr: Context) -> dict[str, float]:
    """Repeat purchases lost per expectation, from the stored opportunities (none computed)."""
    from klantreis.measure.opportunities import stored_opportunities

    stored = stored_opportunities(kr, outcome="repeat_purchase")
    if stored is None:
        return {}
    return {
        o["driver"]: float(o["impact"])
        for o in stored.items
        if o["kind"] == "expectation" and o["impact"] > 0
    }


def breached_values(kr: Context, cut: exp.Expression | None = None) -> pd.DataFrame:
    """One row per (expectation, breached person) with that person's stored value."""
    ensure_values(kr)
    condition = cut if cut is not None else exp.true()
    pairs = kr.engine.fetch(Query(BREACHED, cut=condition)).to_pandas()
    values = values_frame(kr)
    return pairs.merge(values, on="person_id", how="left")


def revenue_at_risk(kr: Context, cut: exp.Expression | None = None) -> dict[str, dict[str, Any]]:
    """Per expectation id: breached persons, of them buyers, their expected future revenue and
    revenue to date, and the lost part where the repeat-purchase effect is measured."""
    if not kr.engine.has_table("breaches"):
        return {}
    fit = ensure_values(kr)
    rows = breached_values(kr, cut)
    lost = _lost_purchases(kr)
    found: dict[str, dict[str, Any]] = {}
    for expectation, group in rows.groupby("expectation_id"):
        found[str(expectation)] = summarize(group, fit, lost.get(str(expectation)))
    return found


def summarize(group: pd.DataFrame, fit: ValueFit, lost_purchases: float | None) -> dict[str, Any]:
    """The value figures of one expectation's breached persons."""
    buyers = group[group["orders"].notna()]
    modelled = fit.method == "bgnbd"
    expected = float(buyers["expected_revenue"].sum()) if modelled else None
    per_order = buyers["expected_order_value"] if modelled else buyers["revenue"] / buyers["orders"]
    mean_order = float(np.nanmean(per_order)) if len(buyers) else None
    lost = (
        round(lost_purchases * mean_order, 2)
        if lost_purchases is not None and mean_order is not None
        else None
    )
    return {
        "persons": int(group["person_id"].nunique()),
        "buyers": len(buyers),
        "expected_revenue": None if expected is None else round(expected, 2),
        "revenue": round(float(buyers["revenue"].sum()), 2),
        "lost_repeat_purchases": lost_purchases,
        "lost_revenue": lost,
        "currency": fit.currency,
        "method": fit.method,
        "horizon_weeks": fit.horizon_weeks,
    }
