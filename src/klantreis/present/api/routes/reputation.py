"""Read API for the reputation per platform over time (`klantreis voice reputation`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.reputation import ReputationQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.get("/reputation")
def reputation(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[ReputationQuery, Query()],
) -> list[dict[str, Any]]:
    """Per platform and period: texts, mentions, ratings, mean rating, sentiment, negative
    share and rating change (the same as `klantreis voice reputation --json`)."""
    kr = Klantreis.over(store, request.app.state.settings)
    return kr.run("reputation", query).to_pylist()
