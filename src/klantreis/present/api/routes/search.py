"""Read API for site search and filters (the same as `klantreis search --json`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=None)
def search(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    limit: int = Query(50, ge=1, le=1000, description="Terms and failing terms to return."),
) -> dict[str, Any]:
    """Failing search terms by frequency, search → view → order, refinements and exits per
    term; uses, empty results and orders after each filter and sort."""
    return dict(Klantreis.over(store, request.app.state.settings).search(limit=limit))
