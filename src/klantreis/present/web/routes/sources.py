"""The acquisition page: where customers came from and how they fared, as `kr.sources()` says.

Computed in the background cache like the other pages; the page lays out the analysis (the
touchpoint names in the reader's language, the shares with their intervals), computing nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis

router = APIRouter(include_in_schema=False)

BY_WORDS = {
    "touchpoint": "Touchpoint",
    "source": "Source",
    "medium": "Medium",
    "campaign": "Campaign",
}
TOUCH_WORDS = {"first": "First visit", "last": "Last visit before the first order"}
VS_WORDS = {"above": "above the shop's own", "below": "below the shop's own"}


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, by: str = "touchpoint", touch: str = "first") -> Response:
    by = by if by in BY_WORDS else "touchpoint"
    touch = touch if touch in TOUCH_WORDS else "first"
    found = one_analysis(request.app, "sources", by=by, touch=touch)
    sources, error = answer(found, "sources")
    return render(
        request,
        viewer(request),
        "sources.html",
        found=found,
        sources=sources,
        error=error,
        by=by,
        touch=touch,
        by_words=BY_WORDS,
        touch_words=TOUCH_WORDS,
        vs_words=VS_WORDS,
    )
