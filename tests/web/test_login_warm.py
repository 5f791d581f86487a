"""Signing in warms the default map only where its figures are read, not computed: with the
server's routine, the map page shows the map stored whole and the service recovery figures
the routine stores with the expectations page's. Until the routine has stored those, a
sign-in starts no analysis (the recovery figures are a query of seconds at 10M, which the
routine's next run computes and stores anyway)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

import klantreis
from klantreis.config import Settings
from klantreis.model import ensure_built
from klantreis.present.api.app import create_app
from klantreis.present.web.board import Board
from klantreis.present.web.context import store_of
from klantreis.present.web.routes.journey_map import _key, map_params
from klantreis.present.web.routes.pages import store_defaults
from web.shop import login

ONLY_VALUES = {
    "enabled": True,
    **dict.fromkeys(
        (
            "model",
            "voice",
            "cases",
            "inbox",
            "opportunities",
            "alerts",
            "review_requests",
            "dashboard",
        ),
        0,
    ),
    "value": 86400,
}
"""A routine running (its pages read what it stores) that stores no page's views itself:
its one job, the customer values, finds them current."""


def test_a_sign_in_starts_no_analysis_the_routine_has_not_stored_yet(store_path: Path) -> None:
    with klantreis.open(store_path) as kr:  # the model, the cases, the values, the map stored
        ensure_built(kr)
        kr.expectations()
        kr.value(limit=0)
        kr.journey_map("six-phase")
    settings = Settings(store_path, sections={"web": {"warm": False}, "routine": ONLY_VALUES})
    app = create_app(settings)
    default_map = _key(map_params(None, None, None))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert app.state.routine is not None
        assert login(client).status_code == 303
        assert not app.state.web_cache.started(default_map)
        # the routine's dashboard job stores the pages' views (the recovery figures too):
        # now a sign-in warms the map, every figure of it read
        board = Board(settings, store_of(app), as_built=True, stored="write")
        assert store_defaults(board) > 0
        client.cookies.clear()
        assert login(client).status_code == 303
        assert app.state.web_cache.started(default_map)
