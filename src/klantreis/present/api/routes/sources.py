"""Read API for the acquisition view (the same as `klantreis sources --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.acquisition.sources import SourcesQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["sources"])


@router.get("/sources", response_model=None)
def sources(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[SourcesQuery, Query()],
) -> dict[str, Any]:
    """Per acquisition source: persons, conversion, buyers later hit by a breach, repeat
    buyers and their voice, each share with a 95 % interval against the shop's own."""
    return dict(Klantreis.over(store, request.app.state.settings).run("sources", query).as_json())
