"""The search page: failing terms, what follows a search, filter and sort use (`kr.search`).

Computed in the background cache like the other pages; the page only lays out the figures.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis, period_choices, period_of

router = APIRouter(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, period: str = "all") -> Response:
    who = viewer(request)
    period, cut = period_of(request.app, period)
    found = one_analysis(request.app, "search", limit=25, **cut)
    search, error = answer(found, "search")
    return render(
        request,
        who,
        "search.html",
        found=found,
        search=search,
        error=error,
        period=period,
        periods=period_choices(who.lang),
    )
