"""Read API for funnels, paths, retention and phase flow (the same names as the CLI).

Query parameters (and their OpenAPI description) are each analysis's query model; a request
model here only adds what the answer's shape needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from klantreis.api import Klantreis
from klantreis.measure.funnels.runner import FunnelQuery
from klantreis.measure.paths import PathsQuery
from klantreis.measure.phase_flow import PhaseFlowQuery
from klantreis.measure.retention import RetentionQuery
from klantreis.present.api.deps import ReadAccess, StoreDep
from klantreis.present.payloads import retention_payload

router = APIRouter(prefix="/api", tags=["analytics"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


class FunnelRequest(FunnelQuery):
    """The funnel query, and what only the answer's shape needs."""

    dropoffs: bool = Field(False, description="Also list the persons who dropped off.")


@router.get("/funnel", response_model=None)
def funnel(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[FunnelRequest, Query()],
) -> dict[str, Any]:
    """Persons per step, conversions and times (the same as `klantreis funnel --json`)."""
    return _kr(request, store).run("funnel", query).as_json(dropoffs=query.dropoffs)


class PathsRequest(PathsQuery):
    """The paths query; `?start=`/`?end=` are the old names of `?start_event=`/`?end_event=`."""

    old_start: str | None = Field(None, alias="start", description="Old name of start_event.")
    old_end: str | None = Field(None, alias="end", description="Old name of end_event.")


@router.get("/paths", response_model=None)
def paths(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[PathsRequest, Query()],
) -> dict[str, Any]:
    """Most frequent paths and Sankey edges (the same as `klantreis paths --json`)."""
    if query.old_start or query.old_end:
        query = query.model_copy(
            update={
                "start_event": query.start_event or query.old_start,
                "end_event": query.end_event or query.old_end,
            }
        )
    return _kr(request, store).run("paths", query).as_json()


class RetentionRequest(RetentionQuery):
    """The retention query, or with `repeat_purchase` the repeat buyers per cohort."""

    repeat_purchase: bool = Field(
        False, description="Repeat buyers per cohort of first order instead."
    )


@router.get("/retention", response_model=None)
def retention(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[RetentionRequest, Query()],
) -> dict[str, Any]:
    """Retention by cohort or repeat purchase (the same as `klantreis retention --json`)."""
    return retention_payload(_kr(request, store), query, repeat_purchase=query.repeat_purchase)


@router.get("/phase-flow", response_model=None)
def phase_flow(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[PhaseFlowQuery, Query()],
) -> dict[str, Any]:
    """Time in each phase and the phase-transition matrix."""
    kr = _kr(request, store)
    return {
        "time_in_phase": kr.run("time_in_phase", query).to_pylist(),
        "transitions": kr.run("phase_transitions", query).to_pylist(),
    }
