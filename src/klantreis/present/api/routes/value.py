"""Read API for customer value (the same as `klantreis value --json` and `kr.value()`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.value.analysis import ValueQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["value"])


@router.get("/value", response_model=None)
def value(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[ValueQuery, Query()],
) -> dict[str, Any]:
    """Customer value: the method and why, its parameters, totals, churn-risk bands and the
    most valuable buyers (or one `person`); with `now`, predicted against actual purchases
    after it."""
    return dict(Klantreis.over(store, request.app.state.settings).run("value", query).as_json())
