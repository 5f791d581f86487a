"""The dashboard's sources page, in each language, from the same analysis as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from web.shop import PASSWORD, login, settled
from web.vocabulary_check import english_words, page_text

SHOP = "https://shop.example"
PEOPLE = {
    f"p{i}": [
        (
            "Page Viewed",
            "09:00",
            {
                "type": "page",
                "properties": {
                    "url": SHOP + "/",
                    "referrer": "https://www.google.nl/" if i % 2 else "https://tweakers.net/",
                },
            },
        ),
        *([("Order Completed", "09:20", {"properties": {"order_id": f"o{i}"}})] if i % 3 else []),
    ]
    for i in range(12)
}
WORDS = {
    "en": ("Organic search", "Comparison site", "Bought again"),
    "nl": ("Organisch zoeken", "Vergelijkingssite", "Kocht opnieuw"),
    "da": ("Organisk søgning", "Prissammenligning", "Købte igen"),
}


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_sources_page_in_each_language(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story(PEOPLE))
        create_user(store, "anna-admin", PASSWORD, lang)
    app_ = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app_, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        html = settled(client, "/sources", timeout=300)
        by_source = settled(client, "/sources?by=source&touch=last", timeout=300)
        the_map = settled(client, "/map?source=comparison+site", timeout=300)
        funnel = settled(
            client,
            "/funnels?step=Page+Viewed&step=Order+Completed&breakdown=acquisition",
            timeout=300,
        )
    assert 'class="error"' not in html
    for word in WORDS[lang]:
        assert word in html
    assert ">google<" in by_source and ">tweakers<" in by_source
    # the map of the persons who came from a comparison site, its first phase saying so
    assert 'value="comparison site" selected' in the_map
    assert WORDS[lang][1] in the_map
    assert 'value="acquisition" selected' in funnel and WORDS[lang][0] in funnel
    if lang != "en":
        assert not english_words(page_text(html), lang)
