"""Read API for funnels, paths, retention and phase flow (the same names as the CLI)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from klantreis.api import Klantreis
from klantreis.present.api.deps import FromDate, ReadAccess, StoreDep, ToDate
from klantreis.present.payloads import retention_payload

router = APIRouter(prefix="/api", tags=["analytics"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


@router.get("/funnel", response_model=None)
def funnel(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    step: Annotated[list[str], Query(description="Event names in order; phase:<id> for a phase.")],
    window: str = Query("7d", description="Conversion window: 30m, 12h, 7d, 2w."),
    mode: str = Query("ordered", pattern="^(ordered|strict|unordered)$"),
    exclude: Annotated[list[str] | None, Query(description="Events that drop the person.")] = None,
    breakdown: str | None = None,
    breakdown_table: str | None = None,
    attribution: str = Query("first_touch", pattern="^(first_touch|last_touch|step)$"),
    attribution_step: int | None = None,
    dropoffs: bool = False,
    persona: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
) -> dict[str, Any]:
    """Persons per step, conversions and times (the same as `klantreis funnel --json`)."""
    result = _kr(request, store).funnel(
        step,
        window=window,
        mode=mode,
        exclude=exclude or [],
        breakdown=breakdown,
        breakdown_table=breakdown_table,
        attribution=attribution,
        attribution_step=attribution_step,
        start=start,
        end=end,
        persona=persona,
    )
    return result.as_json(dropoffs=dropoffs)


@router.get("/paths", response_model=None)
def paths(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    start_event: str | None = Query(None, description="Paths from this event on."),
    end_event: str | None = Query(None, description="Paths up to this event."),
    steps: int = Query(5, ge=1, le=12),
    by: str = Query("touchpoint", pattern="^(touchpoint|event)$"),
    per_person: bool = False,
    top: int = Query(20, ge=1, le=500),
    persona: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
    old_start: str | None = Query(None, alias="start", deprecated=True),
    old_end: str | None = Query(None, alias="end", deprecated=True),
) -> dict[str, Any]:
    """Most frequent paths and Sankey edges (the same as `klantreis paths --json`).

    `?start=`/`?end=` are the old names of `?start_event=`/`?end_event=`."""
    result = _kr(request, store).paths(
        start_event=start_event or old_start,
        end_event=end_event or old_end,
        steps=steps,
        by=by,
        split_by_session=not per_person,
        top=top,
        start=start,
        end=end,
        persona=persona,
    )
    return result.as_json()


@router.get("/retention", response_model=None)
def retention(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    period: str = Query("week", pattern="^(week|month)$"),
    cohort_event: str | None = None,
    return_event: str | None = None,
    periods: int = Query(12, ge=0, le=520),
    repeat_purchase: bool = False,
    persona: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
) -> dict[str, Any]:
    """Retention by cohort or repeat purchase (the same as `klantreis retention --json`)."""
    return retention_payload(
        _kr(request, store),
        period=period,
        repeat_purchase=repeat_purchase,
        cohort_event=cohort_event,
        return_event=return_event,
        periods=periods,
        start=start,
        end=end,
        persona=persona,
    )


@router.get("/phase-flow", response_model=None)
def phase_flow(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    persona: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
) -> dict[str, Any]:
    """Time in each phase and the phase-transition matrix."""
    kr = _kr(request, store)
    cut = {"start": start, "end": end, "persona": persona}
    return {
        "time_in_phase": kr.time_in_phase(**cut).to_pylist(),
        "transitions": kr.phase_transitions(**cut).to_pylist(),
    }
