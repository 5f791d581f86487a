"""Read API for site search and filters (the same as `klantreis search --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.search import SearchQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=None)
def search(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[SearchQuery, Query()],
) -> dict[str, Any]:
    """Failing search terms by frequency, search → view → order, refinements and exits per
    term; uses, empty results and orders after each filter and sort (in the period)."""
    kr = Klantreis.over(store, request.app.state.settings)
    return dict(kr.run("search", query).as_json())
