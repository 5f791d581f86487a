"""Read API for the reputation per platform over time (`klantreis voice reputation`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from klantreis.api import Klantreis
from klantreis.present.api.deps import FromDate, ReadAccess, StoreDep, ToDate

router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.get("/reputation")
def reputation(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    period: str = "month",
    platform: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
) -> list[dict[str, Any]]:
    """Per platform and period: texts, mentions, ratings, mean rating, sentiment, negative
    share and rating change (the same as `klantreis voice reputation --json`)."""
    kr = Klantreis.over(store, request.app.state.settings)
    return kr.reputation(period=period, platform=platform, start=start, end=end).to_pylist()
