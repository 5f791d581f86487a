"""The search page: failing terms, what follows a search, filter and sort use (`kr.search`).

Computed in the background cache like the other pages; the page only lays out the figures.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis

router = APIRouter(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    found = one_analysis(request.app, "search", limit=25)
    search, error = answer(found, "search")
    return render(request, viewer(request), "search.html", found=found, search=search, error=error)
