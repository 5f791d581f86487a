"""The products page (en/nl/da) and `GET /api/products` over the real app and an Olist store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web.shop import PASSWORD, login, settled
from web.vocabulary_check import english_words, page_text

import klantreis
from klantreis.api import Klantreis
from klantreis.collect.keys import create_key
from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.present.web.context import store_of
from klantreis.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(olist_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("olist-products-web") / "olist.duckdb"
    path.write_bytes(olist_store.read_bytes())
    with Store(path) as store:
        create_user(store, "anna-admin", PASSWORD)
        for lang in ("nl", "da"):
            create_user(store, f"olist-{lang}", PASSWORD, lang)
        secret = create_key(store, "analyst", "read")[1]
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        test_client.secret = secret  # type: ignore[attr-defined]
        yield test_client


def test_page_shows_what_the_analysis_measured(client: TestClient, olist_store: Path) -> None:
    assert login(client).status_code == 303
    html = settled(client, "/products", timeout=600)
    assert 'class="error"' not in html
    with klantreis.open(olist_store) as kr:
        expected = {r["photos"]: r for r in kr.products().as_json()["by_photos"]}
    for bucket, share in (("1", "15.9%"), ("2–3", "13.8%"), ("4+", "13.4%"), ("missing", "20.0%")):
        assert expected[bucket]["low_review_share"] is not None
        row = re.search(rf"<tr data-photos=\"{re.escape(bucket)}\">(.*?)</tr>", html, re.S)
        assert row and share in row.group(1), bucket
    assert 'id="fix-first"' in html and html.count("<tr>") > 10
    # Every page to fix first shows what ranks it: the outcome lost when completeness has a
    # measured effect, else its gap × orders; never a column of dashes.
    with klantreis.open(olist_store) as kr:
        fix_first = kr.products().as_json(limit=25)["fix_first"]
    ranking = re.findall(r'<td class="ranking">(.*?)</td>', html)
    assert len(ranking) == len(fix_first) > 0 and "–" not in ranking
    for row in fix_first:
        if row["lost"] is None:
            assert row["weight"] == pytest.approx(row["gap"] * row["reviewed"])


def test_a_difference_that_rounds_to_zero_has_no_sign() -> None:
    from klantreis.present.web.i18n import Lang

    assert [Lang("nl").signed(v) for v in (-0.004, 0.0, 0.004, -0.5, 1234.5)] == [
        "0,00",
        "0,00",
        "0,00",
        "-0,50",
        "+1.234,50",
    ]
    assert Lang("en").signed(-0.04, 1) == "0.0" and Lang("en").signed(-0.06, 1) == "-0.1"


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_page_reads_in_the_language(client: TestClient, lang: str) -> None:
    reader = TestClient(client.app, base_url="http://127.0.0.1")
    assert login(reader, f"olist-{lang}").status_code == 303
    html = settled(reader, "/products", timeout=600)
    text = page_text(html)
    assert not english_words(text, lang)
    assert ("Productpagina's om eerst te verbeteren" if lang == "nl" else "Produktsider") in text


def test_read_api_is_the_python_api(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {client.secret}"}  # type: ignore[attr-defined]
    response = client.get("/api/products", params={"limit": 5}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    # The same store the server has open. The server scores customer texts in the background,
    # so the 'not as described' shares may appear between the two calls: compared apart.
    kr = Klantreis.over(store_of(client.app), client.app.state.settings)
    expected = kr.products().as_json(limit=5)

    def without_voice(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "not_as_described_share"} for r in rows]

    assert without_voice(body["by_photos"]) == without_voice(expected["by_photos"])
    assert body["fix_first"] == expected["fix_first"] and len(body["fix_first"]) == 5
    bad = client.get("/api/products", params={"outcome": "nope"}, headers=headers)
    assert bad.status_code in (400, 422)
    stranger = TestClient(client.app, base_url="http://127.0.0.1")
    assert stranger.get("/api/products").status_code == 401


def test_page_without_a_catalogue_says_how_to_import_one(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with Store(path) as store:
        create_user(store, "anna-admin", PASSWORD)
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as empty:
        assert login(empty).status_code == 303
        html = empty.get("/products").text
    assert 'id="no-catalogue"' in html and "klantreis import products" in html
