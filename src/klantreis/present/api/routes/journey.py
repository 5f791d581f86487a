"""Read API for the journey map, the store's contents and one person's data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from klantreis.api import Klantreis
from klantreis.present.api.deps import FromDate, ReadAccess, StoreDep, ToDate
from klantreis.privacy import export_person

router = APIRouter(prefix="/api", tags=["journey"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


@router.get("/map")
def journey_map(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    definition: str | None = Query(None, description="six-phase, aida or a definition file"),
    persona: str | None = None,
    start: FromDate = None,
    end: ToDate = None,
    language: str = Query("en", pattern="^(en|nl|da)$"),
) -> dict[str, Any]:
    """The journey map as JSON (the same structure as `klantreis map --json`)."""
    result = _kr(request, store).journey_map(
        definition, start=start, end=end, persona=persona, language=language
    )
    return result.to_dict()


@router.get("/stats")
def stats(request: Request, store: StoreDep, _who: ReadAccess) -> dict[str, Any]:
    """What the store holds (the same as `klantreis stats --json`)."""
    return dict(_kr(request, store).stats())


@router.get("/persons/{person}/export")
def export(person: str, store: StoreDep, _who: ReadAccess) -> dict[str, Any]:
    """Everything stored about one person (any of their ids)."""
    data = export_person(store, person)
    if not data["tables"]:
        raise HTTPException(404, f"nothing is stored about {person!r}")
    return data
