"""The inbox in headless Chromium, as its readers see it in English, Dutch and Danish: tick two
cases, assign them, and find them with their owner. Screenshots land in test-artifacts/cases/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from case_story import SHOP
from servers import NO_WARM_UP, Server
from stories import story
from web.test_browser import CHROMIUM, chromium

import klantreis
from klantreis.act.cases import open_cases
from klantreis.measure.voice.stored import update_voice
from klantreis.present.web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "cases"
PASSWORD = "inbox-2026-pass"
HEADINGS = {"en": "Inbox", "nl": "Inbox", "da": "Indbakke"}
ASSIGN = {"en": "Assign", "nl": "Toewijzen", "da": "Tildel"}
AT_RISK = {"en": "Order at risk", "nl": "Bestelling in gevaar", "da": "Ordre i fare"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    path = tmp_path_factory.mktemp("inbox") / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(story(SHOP))
        update_voice(kr.store, kr.engine, retrain=False)
        open_cases(kr)
        for lang in HEADINGS:
            create_user(kr.store, f"reader-{lang}", PASSWORD, lang)
    running = Server(path, config=NO_WARM_UP).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_the_inbox_reads_in_the_language_and_assigns_in_bulk(
    server: Server, browser: Any, lang: str
) -> None:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", f"reader-{lang}")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url(re.compile(r"/map"))
    page.goto(f"{server.url}/cases?status=")
    assert page.locator("h1").inner_text() == HEADINGS[lang]
    assert AT_RISK[lang] in page.locator("#cases").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inbox-{lang}.png"), full_page=True)
    boxes = page.locator("#cases input[type=checkbox]")
    ticked = [boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#bulk input[name=owner]", f"team-{lang}")
    page.click("#bulk button[value=assign]")
    page.wait_for_load_state()
    page.select_option("select[name=owner]", f"team-{lang}")
    page.click("#case-filters button")
    page.wait_for_load_state()
    shown = page.locator("#cases input[type=checkbox]")
    assert sorted(shown.nth(i).get_attribute("value") for i in range(shown.count())) == sorted(
        ticked
    )
    assert ASSIGN[lang] in page.content()
    page.locator("#cases details").first.click()
    page.screenshot(path=str(ARTIFACTS / f"inbox-{lang}-assigned.png"), full_page=True)


NEXT = {"en": "Next", "nl": "Volgende", "da": "Næste"}
SHOWING = {
    "en": "Cases 51–100 of 126",
    "nl": "Casussen 51–100 van 126",
    "da": "Sager 51–100 af 126",
}


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The same shop with twenty copies of each case: an inbox of three pages."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    path = tmp_path_factory.mktemp("crowded") / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(story(SHOP))
        update_voice(kr.store, kr.engine, retrain=False)
        open_cases(kr)
        kr.store.connection.execute(
            "INSERT INTO cases SELECT cases.* REPLACE "
            "(case_id || ':' || CAST(i AS VARCHAR) AS case_id) FROM cases, range(20) AS c(i)"
        )
        for lang in HEADINGS:
            create_user(kr.store, f"reader-{lang}", PASSWORD, lang)
    running = Server(path, config=NO_WARM_UP).start()
    yield running
    running.stop()


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_the_inbox_pages_in_the_language(crowded_server: Server, browser: Any, lang: str) -> None:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{crowded_server.url}/login")
    page.fill("input[name=username]", f"reader-{lang}")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url(re.compile(r"/map"))
    page.goto(f"{crowded_server.url}/cases?kind=&status=active")
    assert page.locator("#cases input[type=checkbox]").count() == 50
    page.locator("#pager-top a[rel=next]").click()
    page.wait_for_load_state()
    assert "page=2" in page.url and "status=active" in page.url
    assert SHOWING[lang] in page.locator("#pager-top").inner_text()
    assert NEXT[lang] in page.locator("#pager-bottom").inner_text()
    assert page.locator("#cases input[type=checkbox]").count() == 50
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inbox-{lang}-page-2.png"))
    page.locator("#pager-bottom").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"inbox-{lang}-page-2-end.png"))
