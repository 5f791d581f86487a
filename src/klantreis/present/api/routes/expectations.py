"""Read API of the expectation scorecard, breaches, pain points and at-risk orders.

The same names and structures as the CLI (`klantreis expectations --json`, `klantreis at-risk
--json`) and the Python API (`kr.expectations()`, `kr.at_risk()`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.expectations.analyses import (
    AtRiskQuery,
    CaseRowsQuery,
    ExpectationsQuery,
    PainPointsQuery,
)
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["expectations"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


@router.get("/expectations")
def expectations(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[ExpectationsQuery, Query()],
) -> dict[str, Any]:
    """The scorecard (the same structure as `klantreis expectations --json`)."""
    return _kr(request, store).run("expectations", query).to_dict()


@router.get("/pain-points")
def pain_points(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[PainPointsQuery, Query()],
) -> dict[str, Any]:
    """Per phase, the breached expectations with their size (for the journey map)."""
    return _kr(request, store).run("pain_points", query).as_json()


def _case_rows_route(kind: str, doc: str) -> None:
    """`GET /api/{kind}`: rows of `breaches` or `delights`, one query model for both."""

    def route(
        request: Request,
        store: StoreDep,
        _who: ReadAccess,
        query: Annotated[CaseRowsQuery, Query()],
    ) -> dict[str, Any]:
        return {kind: _kr(request, store).run(kind, query).to_pylist()}

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
    query: Annotated[AtRiskQuery, Query()],
) -> dict[str, Any]:
    """Orders about to break their delivery promise (as `klantreis at-risk --json`)."""
    result = _kr(request, store).run("at_risk", query)
    return {"now": result.meta["now"], "orders": result.to_pylist()}
