"""Read API for returns (the same as `klantreis returns --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.returns import ReturnsQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["returns"])


@router.get("/returns", response_model=None)
def returns(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[ReturnsQuery, Query()],
) -> dict[str, Any]:
    """Return reasons overall, per category and per product; the shop's decisions; times from
    request to approval, receipt and refund; the next review and repeat purchase after a
    rejected or slow return (requests made in the period)."""
    kr = Klantreis.over(store, request.app.state.settings)
    return dict(kr.run("returns", query).as_json())
