"""The search page: failing terms, what follows a search, filter and sort use (`kr.search`).

Computed in the background cache like the other pages; the page only lays out the figures.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.board import Board, Outcome
from klantreis.present.web.cache import Lookup
from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import in_background

router = APIRouter(include_in_schema=False)


def search_data(app: FastAPI) -> Lookup:
    def compute(board: Board) -> dict[str, Outcome]:
        return {"search": board.run("search", limit=25)}

    return in_background(app, "search", {}, compute)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    who = viewer(request)
    found = search_data(request.app)
    result = found.value["search"] if found.ready else None
    return render(
        request,
        who,
        "search.html",
        found=found,
        search=result.value if result is not None and result.ok else None,
        error=result.error if result is not None else None,
    )
