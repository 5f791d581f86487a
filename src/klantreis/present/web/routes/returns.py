"""The returns page: reasons, times to receipt and refund, the review after a slow refund.

Computed in the background cache like the other pages; the page only lays out `kr.returns()`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis

router = APIRouter(include_in_schema=False)

TIME_WORDS = {
    "request_to_received": "Request → product received",
    "request_to_refund": "Request → refund",
}
REFUND_WORDS = {"slow": "Slow refund", "quick": "Quick refund"}


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request) -> Response:
    found = one_analysis(request.app, "returns")
    returns, error = answer(found, "returns")
    return render(
        request,
        viewer(request),
        "returns.html",
        found=found,
        returns=returns,
        error=error,
        time_words=TIME_WORDS,
        refund_words=REFUND_WORDS,
    )
