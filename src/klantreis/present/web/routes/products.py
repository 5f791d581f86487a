"""The products page: content quality as `klantreis products` measures it, drawn as tables.

The analysis runs in the background cache like the other pages; the page only translates and
lays out what it returns (driver and outcome keys, the parts a page lacks), computing nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.measure.products import OUTCOMES
from klantreis.present.web.board import Board
from klantreis.present.web.context import get_store, render, viewer
from klantreis.present.web.routes.pages import answer, one_analysis, period_choices, period_of

router = APIRouter(include_in_schema=False)

OUTCOME_WORDS = {
    "review_score": "Review score",
    "low_review": "1–2★ reviews",
    "returned": "Returns",
    "not_as_described": "“Not as described” texts",
    "view_to_cart": "View → cart",
}
"""Outcome keys of the analysis, as the page says them (translated like every message)."""
DRIVER_WORDS = {
    "completeness": "Completeness (per 10 points)",
    "photos": "Photos (none → full)",
    "description_length": "Description (none → full)",
    "specifications": "Specifications (none → full)",
}
PART_WORDS = {
    "photos": "photos",
    "description_length": "description characters",
    "specifications": "specifications",
}
NOTE_WORDS = {
    "no_returns": "No return requests in the store: return rates are not measured.",
    "no_voice": "Customer texts are not scored yet: no “not as described” shares.",
}


def has_catalogue(board: Board) -> bool:
    """Whether a product catalogue was imported (else the page says how to import one)."""
    return board.has_table("products") and bool(
        board.store.engine.scalar("SELECT count(*) FROM products")
    )


@router.get("/products", response_class=HTMLResponse)
def products_page(request: Request, outcome: str = "low_review", period: str = "all") -> Response:
    who = viewer(request)
    outcome = outcome if outcome in OUTCOMES else "low_review"
    period, cut = period_of(request.app, period)
    if not has_catalogue(Board(request.app.state.settings, get_store(request))):
        return render(request, who, "products.html", found=None, quality=None, error=None)
    found = one_analysis(request.app, "products", outcome=outcome, **cut)
    measured, error = answer(found, "products")
    quality: dict[str, Any] | None = None
    if measured is not None:
        quality = measured.as_json(limit=25)
        quality["categories"] = quality["categories"][:20]
    return render(
        request,
        who,
        "products.html",
        found=found,
        quality=quality,
        error=error,
        outcome=outcome,
        outcomes=list(OUTCOMES),
        period=period,
        periods=period_choices(who.lang),
        outcome_words=OUTCOME_WORDS,
        driver_words=DRIVER_WORDS,
        part_words=PART_WORDS,
        note_words=NOTE_WORDS,
    )
