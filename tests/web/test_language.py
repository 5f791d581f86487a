"""A Dutch or Danish reader sees the product's words in their language on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from web.shop import PASSWORD, login, settled
from web.vocabulary_check import english_words, page_text

PAGES = (
    "/map",
    "/map?definition=aida",
    "/expectations",
    "/expectations/delivery_promise_kept",
    "/funnels",
    "/voice",
    "/timeline",
    "/timeline?person=anna",
    "/timeline?person=anna&focus=true",
    "/settings",
)


@pytest.fixture(params=["nl", "da"])
def reader(request: pytest.FixtureRequest, store_path: Path) -> Iterator[tuple[TestClient, str]]:
    lang = request.param
    with Store(store_path) as store:
        create_user(store, f"reader-{lang}", PASSWORD, lang)
    app = create_app(Settings(store_path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client, f"reader-{lang}").status_code == 303
        settled(client, "/expectations")  # judges the expectations: breaches, delights
        yield client, lang


def test_no_english_vocabulary_on_any_page(reader: tuple[TestClient, str]) -> None:
    client, lang = reader
    found = {url: english_words(page_text(settled(client, url)), lang) for url in PAGES}
    assert not {url: words for url, words in found.items() if words}


def test_the_check_sees_english_words() -> None:
    # So that the test above cannot pass because the check is blind.
    html = '<td>Order Completed</td><td>Gebruik &amp; service</td><p class="quote">delivery</p>'
    assert english_words(page_text(html), "nl") == ["Order Completed"]


def test_scorecard_titles_phases_and_categories(reader: tuple[TestClient, str]) -> None:
    client, lang = reader
    html = settled(client, "/expectations")
    title, phase, category = {
        "nl": ("Geleverd op de beloofde datum", "Gebruik &amp; service", "snelheid"),
        "da": ("Leveret til den lovede dato", "Brug &amp; service", "hastighed"),
    }[lang]
    assert title in html and phase in html and category in html
    assert "Delivered by the promised date" not in html


def test_an_expectation_page_is_titled_by_its_name_not_its_id(
    reader: tuple[TestClient, str],
) -> None:
    client, lang = reader
    html = client.get("/expectations/delivery_promise_kept").text
    heading = re.search(r"<h1>([^<]*)</h1>", html)
    assert (
        heading
        and heading.group(1)
        == {
            "nl": "Geleverd op de beloofde datum",
            "da": "Leveret til den lovede dato",
        }[lang]
    )


def test_map_events_touchpoints_and_channels(reader: tuple[TestClient, str]) -> None:
    client, lang = reader
    html = settled(client, "/map")
    words = {
        "nl": ("Bestelling geplaatst", "Productpagina", "vervoerder", "Zes fasen"),
        "da": ("Ordre afgivet", "Produktside", "fragtfirma", "Seks faser"),
    }[lang]
    assert all(w in html for w in words), [w for w in words if w not in html]


def test_funnel_steps_are_named_in_the_language_and_sent_as_event_names(
    reader: tuple[TestClient, str],
) -> None:
    client, lang = reader
    html = settled(client, "/funnels")
    viewed = {"nl": "Product bekeken", "da": "Produkt vist"}[lang]
    assert re.search(rf'<option value="Product Viewed"[^>]*>{viewed}</option>', html)


def test_timeline_words(reader: tuple[TestClient, str]) -> None:
    client, lang = reader
    html = client.get("/timeline?person=anna").text
    words = {
        "nl": ("Bestelling bezorgd", "vervoerder", "te laat: beloofd 4 mrt 2026", "Klantreis 1"),
        "da": ("Ordre leveret", "fragtfirma", "Kunderejse 1", "forsinket: lovet 4. mar. 2026"),
    }[lang]
    assert all(w in html for w in words), [w for w in words if w not in html]


def test_settings_thresholds_and_rule_kinds(reader: tuple[TestClient, str]) -> None:
    client, lang = reader
    html = client.get("/settings").text
    words = {
        "nl": ("binnen 1 dag, positief verrast binnen 1 uur", "termijn", "Laadsnelheid gemeten"),
        "da": ("inden for 1 dag, positivt overrasket inden for 1 time", "frist", "Ordre afgivet"),
    }[lang]
    assert all(w in html for w in words), [w for w in words if w not in html]
    assert "within 1 d" not in html and "deadline" not in html
