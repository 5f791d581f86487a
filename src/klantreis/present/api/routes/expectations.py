"""Read API of the expectation scorecard, breaches, pain points and at-risk orders.

The same names and structures as the CLI (`klantreis expectations --json`, `klantreis at-risk
--json`) and the Python API (`kr.expectations()`, `kr.at_risk()`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.errors import KlantreisError
from klantreis.present.api.deps import FromDate, ReadAccess, StoreDep, ToDate

router = APIRouter(prefix="/api", tags=["expectations"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise KlantreisError(f"not an ISO timestamp: {value!r}", field="now") from None


@router.get("/expectations")
def expectations(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    by: str | None = Query(None, pattern="^(phase|persona|week|carrier|channel)$"),
    start: FromDate = None,
    end: ToDate = None,
    persona: str | None = None,
    compare: str | None = Query(None, pattern="^(timestamp|day)$"),
    trend: str = Query("month", pattern="^(month|week)$"),
    language: str = Query("en", pattern="^(en|nl|da)$"),
    now: str | None = Query(None, description="judge as of this ISO timestamp"),
) -> dict[str, Any]:
    """The scorecard (the same structure as `klantreis expectations --json`)."""
    card = _kr(request, store).expectations(
        by=by,
        start=start,
        end=end,
        persona=persona,
        compare=compare,
        trend=trend,
        language=language,
        now=_now(now),
    )
    return card.to_dict()


@router.get("/pain-points")
def pain_points(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    persona: str | None = None,
    language: str = Query("en", pattern="^(en|nl|da)$"),
) -> dict[str, Any]:
    """Per phase, the breached expectations with their size (for the journey map)."""
    return {"phases": _kr(request, store).pain_points(persona=persona, language=language)}


def _case_rows_route(kind: str, doc: str) -> None:
    """`GET /api/{kind}`: rows of `breaches` or `delights`, one filter set for both."""

    def route(
        request: Request,
        store: StoreDep,
        _who: ReadAccess,
        person_id: str | None = None,
        expectation: str | None = None,
        journey_id: str | None = None,
        limit: int = Query(1000, ge=1, le=100_000),
    ) -> dict[str, Any]:
        result = getattr(_kr(request, store), kind)(
            person_id=person_id, expectation=expectation, journey_id=journey_id, limit=limit
        )
        return {kind: result.to_pylist()}

    route.__name__ = kind
    route.__doc__ = doc
    router.add_api_route(f"/{kind}", route, methods=["GET"])


_case_rows_route("breaches", "Breaches in time order, of one person, journey or expectation.")
_case_rows_route(
    "delights", "Promises clearly exceeded, in time order, of one person, journey or expectation."
)


@router.get("/at-risk")
def at_risk(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    now: str | None = Query(None, description="judge as of this ISO timestamp"),
    unshipped_hours: float | None = Query(None, ge=0),
    undelivered_hours: float | None = Query(None, ge=0),
    overdue: bool = False,
) -> dict[str, Any]:
    """Orders about to break their delivery promise (as `klantreis at-risk --json`)."""
    result = _kr(request, store).at_risk(
        now=_now(now),
        unshipped_hours=unshipped_hours,
        undelivered_hours=undelivered_hours,
        overdue=overdue,
    )
    return {"now": result.meta["now"], "orders": result.to_pylist()}
