"""Answers that `klantreis <command> --json` and the read API give alike, built once.

Funnels and paths carry their JSON shape on their result (`as_json`); retention returns a
plain table, so its shape, and which analysis `repeat_purchase` picks, live here for the
CLI and `GET /api/retention` both.
"""

from __future__ import annotations

from typing import Any

from klantreis.api import Klantreis

_CUT = ("start", "end", "persona")


def retention_payload(
    kr: Klantreis, *, period: str, repeat_purchase: bool, **query: Any
) -> dict[str, Any]:
    """Retention by cohort (`query`: the options of `kr.retention`), or with
    `repeat_purchase` the repeat buyers per cohort of first order, which take only the cut
    (start, end, persona) of `query`."""
    if repeat_purchase:
        cut = {key: query[key] for key in _CUT if key in query}
        table = kr.repeat_purchase(period=period, **cut)
    else:
        table = kr.retention(period=period, **query)
    return {"period": period, "repeat_purchase": repeat_purchase, "cohorts": table.to_pylist()}
