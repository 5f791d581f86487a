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
from web.vocabulary_check import english_words, page_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def olist_client(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("olist-web") / "olist.duckdb"
    with Store(path) as store:
        import_olist(store, olist_dir)
        create_user(store, "anna-admin", PASSWORD)
        for lang in ("nl", "da"):
            create_user(store, f"olist-{lang}", PASSWORD, lang)
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


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_olist_pages_read_in_the_language(olist_client: TestClient, lang: str) -> None:
    # A second browser on the same server (its store is open in `olist_client`'s lifespan).
    reader = TestClient(olist_client.app, base_url="http://127.0.0.1")
    assert login(reader, f"olist-{lang}").status_code == 303
    person = re.search(r'href="/timeline\?person=([^"]+)"', reader.get("/timeline").text)
    assert person, "the timeline page suggests people"
    urls = ["/map", "/expectations", "/voice", "/funnels", f"/timeline?person={person.group(1)}"]
    found = {url: english_words(page_text(settled(reader, url, timeout=900)), lang) for url in urls}
    assert not {url: words for url, words in found.items() if words}
