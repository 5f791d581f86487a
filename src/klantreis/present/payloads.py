"""Answers that `klantreis <command> --json` and the read API give alike, built once.

Funnels and paths carry their JSON shape on their result (`as_json`); retention returns a
plain table, so its shape, and which analysis `repeat_purchase` picks, live here for the
CLI and `GET /api/retention` both.
"""

from __future__ import annotations

from typing import Any

from klantreis.api import Klantreis
from klantreis.measure.retention import RetentionQuery


def retention_payload(
    kr: Klantreis, query: RetentionQuery, *, repeat_purchase: bool
) -> dict[str, Any]:
    """Retention by cohort, or with `repeat_purchase` the repeat buyers per cohort of first
    order, which take only the period and the cut (start, end, persona) of `query`."""
    if repeat_purchase:
        table = kr.repeat_purchase(
            period=query.period, start=query.start, end=query.end, persona=query.persona
        )
    else:
        table = kr.run("retention", query)
    return {
        "period": query.period,
        "repeat_purchase": repeat_purchase,
        "cohorts": table.to_pylist(),
    }
