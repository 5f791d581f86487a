"""The returns page: reasons, the shop's decisions, waiting times, and the next review and repeat
purchase after a rejected or slow return.

Computed in the background cache like the other pages; the page only lays out `kr.returns()`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis, period_choices, period_of

router = APIRouter(include_in_schema=False)

TIME_WORDS = {
    "request_to_approval": "Request → approval",
    "request_to_rejection": "Request → rejection",
    "request_to_received": "Request → product received",
    "request_to_refund": "Request → refund",
}
RETURN_OUTCOME_WORDS = {
    "quick": "Quick return",
    "slow": "Slow return",
    "rejected": "Rejected request",
}


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request, period: str = "all") -> Response:
    who = viewer(request)
    period, cut = period_of(request.app, period)
    found = one_analysis(request.app, "returns", **cut)
    returns, error = answer(found, "returns")
    return render(
        request,
        who,
        "returns.html",
        found=found,
        returns=returns,
        error=error,
        period=period,
        periods=period_choices(who.lang),
        time_words=TIME_WORDS,
        outcome_words=RETURN_OUTCOME_WORDS,
    )
