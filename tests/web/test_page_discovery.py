"""A dashboard page is one module in `present/web/routes/` with a `router`: added alone (no
list to edit), it is mounted, behind the login, in the viewer's language."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store

from .shop import PASSWORD, login

PAGE = """
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from klantreis.present.web.context import viewer

router = APIRouter(include_in_schema=False)


@router.get("/shoe-sizes", response_class=HTMLResponse)
def shoe_sizes(request: Request) -> HTMLResponse:
    who = viewer(request)
    return HTMLResponse(f"<p id='shoe-sizes'>shoe sizes for {who.lang.code}</p>")
"""


def test_a_page_module_added_alone_is_mounted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from klantreis.present.web import routes

    extra = tmp_path / "more_routes"
    extra.mkdir()
    (extra / "shoe_sizes.py").write_text(textwrap.dedent(PAGE))
    monkeypatch.setattr(routes, "__path__", [*routes.__path__, str(extra)])
    monkeypatch.delitem(sys.modules, f"{routes.__name__}.shoe_sizes", raising=False)
    store = tmp_path / "shop.duckdb"
    with Store(store) as handle:
        create_user(handle, "anna-admin", PASSWORD, "nl")
    app = create_app(Settings(store, sections={"web": {"warm": False}}))
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert client.get("/shoe-sizes", follow_redirects=False).status_code in (302, 303)
            assert login(client).status_code == 303
            page = client.get("/shoe-sizes")
    finally:
        sys.modules.pop(f"{routes.__name__}.shoe_sizes", None)
    assert page.status_code == 200 and "shoe sizes for nl" in page.text
