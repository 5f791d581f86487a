"""Expectations, funnels & paths and voice: pages that draw what their analyses return."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web import charts
from klantreis.present.web.board import PERIODS, Board
from klantreis.present.web.context import get_store, render, viewer
from klantreis.store.query import Query as SqlQuery

router = APIRouter(include_in_schema=False)


def _board(request: Request) -> Board:
    return Board(request.app.state.settings, get_store(request))


def _cut(board: Board, period: str | None, persona: str | None) -> dict[str, Any]:
    since, until = board.period_bounds(period if period in PERIODS else "all")
    return {"start": since.isoformat() if since else None,
            "end": until.isoformat() if until else None, "persona": persona or None}


@router.get("/expectations", response_class=HTMLResponse)
def expectations_page(request: Request, period: str = "all", persona: str = "") -> Response:
    who = viewer(request)
    board = _board(request)
    cut = _cut(board, period, persona)
    scorecard = board.run("expectations", **cut)
    pains = board.run("pain_points", **cut)
    return render(request, who, "expectations.html", scorecard=scorecard, pains=pains,
                  view=charts.scorecard(scorecard.rows, who.lang))


@router.get("/expectations/{expectation}", response_class=HTMLResponse)
def expectation_persons(request: Request, expectation: str) -> Response:
    """Drill-down: the persons an expectation was breached for, each linked to their timeline."""
    who = viewer(request)
    board = _board(request)
    rows: list[dict[str, Any]] = []
    if board.has_table("breaches"):
        rows = board.store.engine.rows(SqlQuery(
            "SELECT * FROM breaches WHERE CAST(expectation AS VARCHAR) = :e LIMIT 500",
            e=expectation))
    return render(request, who, "expectation_persons.html", expectation=expectation, rows=rows,
                  has_table=board.has_table("breaches"))


def event_names(board: Board) -> list[str]:
    if not board.has_table("events"):
        return []
    rows = board.store.engine.rows(SqlQuery(
        "SELECT event, count(*) AS n FROM events WHERE event IS NOT NULL "
        "AND type NOT IN ('identify', 'group', 'alias') GROUP BY event ORDER BY n DESC, event"))
    return [str(r["event"]) for r in rows]


DEFAULT_STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


@router.get("/funnels", response_class=HTMLResponse)
def funnels_page(request: Request, step: list[str] = Query(default=[]),  # noqa: B008
                 period: str = "all", persona: str = "") -> Response:
    who = viewer(request)
    board = _board(request)
    names = event_names(board)
    steps = [s for s in step if s] or [s for s in DEFAULT_STEPS if s in names]
    cut = _cut(board, period, persona)
    funnel = board.run("funnel", steps=steps, **cut) if len(steps) >= 2 else None
    paths = board.run("paths", **cut)
    flow = board.run("phase_flow", **cut)
    return render(
        request, who, "funnels.html", names=names, steps=steps or names[:2], funnel=funnel,
        paths=paths, flow=flow,
        funnel_chart=charts.funnel(funnel.rows, steps, who.lang) if funnel and funnel.ok
        else None,
        sankey=charts.sankey(flow.rows if flow.ok else paths.rows if paths.ok else []),
    )


@router.get("/voice", response_class=HTMLResponse)
def voice_page(request: Request, period: str = "all", persona: str = "") -> Response:
    who = viewer(request)
    board = _board(request)
    cut = _cut(board, period, persona)
    voice = board.run("voice", **cut)
    emotion = board.run("emotion_by_phase", **cut)
    surveys = board.run("surveys", **cut)
    return render(request, who, "voice.html", voice=voice, emotion=emotion, surveys=surveys,
                  view=charts.voice(voice, who.lang))
