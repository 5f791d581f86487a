"""The customer timeline page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.model import ensure_built
from klantreis.present.web.board import Board
from klantreis.present.web.context import get_store, render, viewer
from klantreis.present.web.routes.cases import KIND_WORDS, STATUS_WORDS
from klantreis.present.web.routes.pages import SUGGESTIONS, plain_value
from klantreis.present.web.timeline import KEY_MOMENTS, find_person, group, timeline

OPEN_UP_TO = 40
"""A timeline this short is shown opened; a longer one collapsed to its journeys."""

router = APIRouter(include_in_schema=False)


@router.get("/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, person: str = "", focus: bool = False) -> Response:
    who = viewer(request)
    store = get_store(request)
    board = Board(request.app.state.settings, store)
    if board.has_table("events") and not board.has_table("journey_events"):
        ensure_built(board.kr)  # only the first time: rebuilding is the map's (slow) job
    person_id = find_person(store, person) if person else None
    profile, entries = timeline(store, person_id) if person_id else ({}, [])
    touchpoints = sum(1 for e in entries if not (e.breach or e.delight))
    if focus:
        entries = [e for e in entries if e.breach or e.delight or e.what in KEY_MOMENTS]
    journeys = group(store, person_id, entries) if person_id else []
    return render(
        request,
        who,
        "timeline.html",
        query=person,
        person_id=person_id,
        profile=profile,
        entries=entries,
        journeys=journeys,
        opened=len(entries) <= OPEN_UP_TO,
        # shown only without a person (stored by the routine: a scan of every event)
        suggestions=[] if person_id else plain_value(request.app, SUGGESTIONS),
        focus=focus,
        touchpoints=touchpoints,
        not_found=bool(person) and person_id is None,
        case_kinds=KIND_WORDS,
        case_statuses=STATUS_WORDS,
    )
