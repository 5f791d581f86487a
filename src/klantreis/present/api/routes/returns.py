"""Read API for returns (the same as `klantreis returns --json`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from klantreis.api import Klantreis
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["returns"])


@router.get("/returns", response_model=None)
def returns(request: Request, store: StoreDep, _who: ReadAccess) -> dict[str, Any]:
    """Return reasons overall, per category and per product; times from request to receipt
    and to refund; the review after a slow refund against a quick one."""
    return dict(Klantreis.over(store, request.app.state.settings).returns())
