"""In headless Chromium: on a fresh store whose texts the routine has not scored, the voice
page says how many customer texts wait and what scores them, and the inbox that no case was
ever opened and what opens them, in the reader's language; once the texts are scored and the
cases opened, both notes are gone.

The server runs as a user runs it (`klantreis serve`), its routine building the model and
storing the pages but with its voice job off (`[routine] voice = 0`): the state a new shop
is in until the voice job has run (minutes at shop scale). Screenshots land in
test-artifacts/web/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import Server, cli
from stories import story

from klantreis.measure.voice.stored import unscored_texts
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from web.shop import shop_story
from web.test_browser import ARTIFACTS, CHROMIUM, chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "voice-waits-2026"
LANGUAGES = ("en", "nl", "da")
NO_VOICE_JOB = (
    "[web]\nwarm = false\n[routine]\nretry = 1\nvoice = 0\ncases = 0\ninbox = 0\nvalue = 0\n"
    "opportunities = 0\nalerts = 0\nreview_requests = 0\ndashboard = 5\n"
)
"""The model built and the pages stored by the routine; no text scored, no case opened."""
WAITING = {
    "en": "3 customer texts are waiting to be scored for sentiment and topics",
    "nl": "3 klantteksten wachten op een score voor sentiment en onderwerpen",
    "da": "3 kundetekster venter på at blive scoret for stemning og emner",
}
NONE_SCORED = {
    "en": "No scored customer texts in this view.",
    "nl": "Geen gescoorde klantteksten in deze weergave.",
    "da": "Ingen scorede kundetekster i denne visning.",
}
"""Said where the topics chart and table would be."""
UNOPENED = {
    "en": "No case has been opened yet",
    "nl": "Er is nog geen casus geopend",
    "da": "Der er endnu ikke åbnet nogen sag",
}
OPENS = {
    "en": "Run `klantreis cases open` to open them",
    "nl": "Voer `klantreis cases open` uit om ze te openen",
    "da": "Kør `klantreis cases open` for at åbne dem",
}
FILLS = {
    "en": "Run `klantreis voice update` to score them",
    "nl": "Voer `klantreis voice update` uit om ze te scoren",
    "da": "Kør `klantreis voice update` for at score dem",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    path = tmp_path_factory.mktemp("voice-waiting") / "shop.duckdb"
    with Store(path) as opened:
        opened.append(story(shop_story()))
        for lang in LANGUAGES:
            create_user(opened, f"reader-{lang}", PASSWORD, lang)
        assert unscored_texts(opened, opened.engine) == 3
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _pages(browser: Any, server: Server, lang: str, shot: str) -> tuple[str, str]:
    """The voice page's text once the routine stored it and nothing newer waits, and the
    inbox's."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", f"reader-{lang}")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button")
        page.wait_for_url(re.compile(r"/map"))
        deadline = time.monotonic() + 600  # the routine's first model build, on a busy machine
        while True:
            page.goto(f"{server.url}/voice")
            html = page.content()
            if 'id="page-age"' in html and not any(
                f'id="{m}"' in html for m in ("page-progress", "page-stale")
            ):
                break
            assert time.monotonic() < deadline, "the voice page was never stored"
            time.sleep(0.5)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"voice-{shot}-{lang}.png"), full_page=True)
        voice = str(page.inner_text("main"))
        page.goto(f"{server.url}/cases")
        page.screenshot(path=str(ARTIFACTS / f"inbox-{shot}-{lang}.png"), full_page=True)
        return voice, str(page.inner_text("main"))
    finally:
        context.close()


def test_the_voice_page_says_which_texts_wait(store: Path, browser: Any) -> None:
    server = Server(store, config=NO_VOICE_JOB).start()
    try:
        for lang in LANGUAGES:
            text, inbox = _pages(browser, server, lang, "waiting")
            assert WAITING[lang] in text, text
            assert FILLS[lang] in text
            assert text.count(NONE_SCORED[lang]) == 2
            assert UNOPENED[lang] in inbox and OPENS[lang] in inbox, inbox
    finally:
        server.stop()

    # `klantreis voice update` scores them, `klantreis cases open` opens the cases; the
    # routine stores the pages again at its start
    cli("voice", "update", store=store, check=True)
    cli("cases", "open", store=store, check=True)
    server = Server(store, config=NO_VOICE_JOB).start()
    try:
        for lang in LANGUAGES:
            text, inbox = _pages(browser, server, lang, "scored")
            assert WAITING[lang] not in text and FILLS[lang] not in text, text
            assert "voice update" not in text and NONE_SCORED[lang] not in text
            assert UNOPENED[lang] not in inbox and "cases open" not in inbox, inbox
    finally:
        server.stop()
    with Store(store, read_only=True) as opened:
        rows = opened.connection.execute("SELECT count(*) FROM voice").fetchall()
    assert rows[0][0] == 3
