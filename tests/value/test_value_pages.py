"""The customer value page and the expectation drill-down (en/nl/da) over the real app, and
the per-person value of an expectation's breaches."""

from __future__ import annotations

import html as markup
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web.shop import PASSWORD, login, settled
from web.vocabulary_check import english_words, page_text

import klantreis
from klantreis.config import Settings
from klantreis.errors import UnknownName
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(shop_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("value-web") / "shop.duckdb"
    shutil.copy(shop_store, path)
    with Store(path) as store:
        for lang in ("en", "nl", "da"):
            create_user(store, f"user-{lang}", PASSWORD, lang)
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_value_of_an_expectations_breached_persons(shop_store: Path) -> None:
    with klantreis.open(shop_store) as kr:
        hit = kr.value(expectation="delivery_promise_kept", limit=1000).as_json()
        risk = kr.expectations().get("delivery_promise_kept").value_at_risk
        with pytest.raises(UnknownName, match="delivery_promise_kep'"):
            kr.value(expectation="delivery_promise_kep")
    assert risk is not None
    assert hit["buyers"] == risk["buyers"] == len(hit["persons_listed"])
    assert hit["totals"]["expected_revenue"] == pytest.approx(risk["expected_revenue"], abs=0.05)


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_value_page_in_each_language(client: TestClient, lang: str, shop_store: Path) -> None:
    reader = TestClient(client.app, base_url="http://127.0.0.1")
    assert login(reader, f"user-{lang}").status_code == 303
    html = settled(reader, "/value", timeout=600)
    assert 'class="error"' not in html and 'id="buyers"' in html and 'id="churn"' in html
    with klantreis.open(shop_store, read_only=True) as kr:
        top = kr.value(limit=1).persons_listed[0]
    assert f"/timeline?person={top.person_id}" in html
    text = page_text(html)
    heading = {"en": "Customer value", "nl": "Klantwaarde", "da": "Kundeværdi"}[lang]
    assert f"{heading} " in text and "BG/NBD" in text
    # The simulated shop's buyers do not show who stops buying (a and b run off): said so.
    unidentified = {
        "en": "Not identified: these buyers do not show who stops buying",
        "nl": "Niet vast te stellen: deze kopers laten niet zien wie stopt met kopen",
        "da": "Ikke bestemt: disse købere viser ikke, hvem der holder op med at købe",
    }[lang]
    assert 'id="value-unidentified"' in html and unidentified in markup.unescape(text)
    if lang != "en":
        assert not english_words(text, lang)


def test_drill_down_shows_each_breached_customers_value(client: TestClient) -> None:
    reader = TestClient(client.app, base_url="http://127.0.0.1")
    assert login(reader, "user-nl").status_code == 303
    html = reader.get("/expectations/delivery_promise_kept").text
    assert 'id="value-at-risk"' in html
    said = markup.unescape(page_text(html))
    assert "De schendingen troffen" in said and "verwachte omzet" in said
    assert "€" in html
