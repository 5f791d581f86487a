"""The customer value page: what `klantreis value` answers, drawn as tables.

Computed in the background cache like the other pages; the page lays out `kr.value()` (the
stored `customer_values`, which the server's routine keeps current), computing nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis

router = APIRouter(include_in_schema=False)

CHURN_WORDS = {
    "high": "High (alive below 25 %)",
    "elevated": "Elevated (25–50 %)",
    "moderate": "Moderate (50–80 %)",
    "low": "Low (80 % or more)",
}


@router.get("/value", response_class=HTMLResponse)
def value_page(request: Request) -> Response:
    found = one_analysis(request.app, "value", limit=25)
    value, error = answer(found, "value")
    return render(
        request,
        viewer(request),
        "value.html",
        found=found,
        value=value,
        error=error,
        churn_words=CHURN_WORDS,
    )
