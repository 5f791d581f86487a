"""Answers that `klantreis <command> --json` and the read API give alike, built once.

Funnels and paths carry their JSON shape on their result (`as_json`); retention returns a
plain table, so its shape, and which analysis `repeat_purchase` picks, live here for the
CLI and `GET /api/retention` both.
"""

from __future__ import annotations

from typing import Any

from klantreis.api import Klantreis


def retention_payload(
    kr: Klantreis,
    *,
    period: str,
    repeat_purchase: bool,
    cohort_event: str | None = None,
    return_event: str | None = None,
    periods: int = 12,
    since: str | None = None,
    until: str | None = None,
    persona: str | None = None,
) -> dict[str, Any]:
    """Retention by cohort, or with `repeat_purchase` the repeat buyers per cohort of first
    order (which has no cohort or return event and no period count of its own)."""
    cut = {"since": since, "until": until, "persona": persona}
    if repeat_purchase:
        table = kr.repeat_purchase(period=period, **cut)
    else:
        table = kr.retention(
            period=period,
            cohort_event=cohort_event,
            return_event=return_event,
            periods=periods,
            **cut,
        )
    return {"period": period, "repeat_purchase": repeat_purchase, "cohorts": table.to_pylist()}
