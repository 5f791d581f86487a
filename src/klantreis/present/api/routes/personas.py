"""Read API for personas and audiences (the same data as `klantreis personas list|export`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from klantreis.api import Klantreis
from klantreis.measure.audiences import AudienceError, audience, to_csv
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["personas"])

_LIST = """
SELECT persona, source, name, description, size, share, examples FROM personas
ORDER BY source, size DESC, persona
"""


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


@router.get("/personas")
def personas(request: Request, store: StoreDep, _who: ReadAccess) -> list[dict[str, Any]]:
    """Every discovered and rule persona with size, share and description."""
    kr = _kr(request, store)
    if not kr.engine.has_table("personas"):
        return []
    rows = kr.engine.rows(_LIST)
    for row in rows:
        row["examples"] = json.loads(row["examples"] or "[]")
    return rows


@router.get("/personas/{persona}/audience", response_model=None)
def persona_audience(
    persona: str,
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    format: str = Query("json", pattern="^(json|csv)$", description="json or csv"),
) -> Response | dict[str, Any]:
    """Members of a segment: person id, user id, e-mail SHA-256 only where consented."""
    try:
        table = audience(_kr(request, store), persona)
    except AudienceError as exc:
        raise HTTPException(404, str(exc)) from None
    if format == "csv":
        return Response(
            to_csv(table),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{persona}.csv"'},
        )
    return {"persona": persona, "persons": table.to_pylist()}
