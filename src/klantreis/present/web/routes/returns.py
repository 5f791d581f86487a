"""The returns page: reasons, times to receipt and refund, the review after a slow refund.

Computed in the background cache like the other pages; the page only lays out `kr.returns()`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.web.board import Board, Outcome
from klantreis.present.web.cache import Lookup
from klantreis.present.web.context import render, viewer
from klantreis.present.web.routes.pages import in_background

router = APIRouter(include_in_schema=False)

TIME_WORDS = {
    "request_to_received": "Request → product received",
    "request_to_refund": "Request → refund",
}
REFUND_WORDS = {"slow": "Slow refund", "quick": "Quick refund"}


def returns_data(app: FastAPI) -> Lookup:
    def compute(board: Board) -> dict[str, Outcome]:
        return {"returns": board.run("returns")}

    return in_background(app, "returns", {}, compute)


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request) -> Response:
    who = viewer(request)
    found = returns_data(request.app)
    result = found.value["returns"] if found.ready else None
    return render(
        request,
        who,
        "returns.html",
        found=found,
        returns=result.value if result is not None and result.ok else None,
        error=result.error if result is not None else None,
        time_words=TIME_WORDS,
        refund_words=REFUND_WORDS,
    )
