"""Every dashboard page on the real Olist sample (../shared/data), not only on the demo shop."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klantreis.collect.imports.olist import import_olist
from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from web.shop import PASSWORD, login, settled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def olist_client(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("olist-web") / "olist.duckdb"
    with Store(path) as store:
        import_olist(store, olist_dir)
        create_user(store, "anna-admin", PASSWORD)
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client


@pytest.mark.parametrize("url", ["/map", "/expectations", "/funnels", "/voice", "/settings"])
def test_page_works_on_olist(olist_client: TestClient, url: str) -> None:
    html = settled(olist_client, url, timeout=900)
    assert not re.findall(r'class="error"', html), url
    if url == "/map":
        assert "<svg" in html and "Evaluation" in html and "Review Submitted" in html


def test_timeline_of_an_olist_customer(olist_client: TestClient) -> None:
    listing = olist_client.get("/timeline").text
    person = re.search(r'href="/timeline\?person=([^"]+)"', listing)
    assert person, "the timeline page suggests people"
    html = olist_client.get(f"/timeline?person={person.group(1)}").text
    assert "Order Completed" in html and "carrier" in html  # the order and its delivery
