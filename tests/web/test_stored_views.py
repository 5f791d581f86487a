"""Every view the routine stores (each page's default view, each period, each persona, the
funnels page and its event names) reads back equal to what computing it gives; a restarted
server shows them at the first request, with the time of the figures said in UTC, also on a
server whose clock is in another zone; and the stored figures turn stale when the customer
values or the personas they rest on change."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import Server

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.funnels.result import FunnelResult
from klantreis.measure.paths import PathsResult
from klantreis.measure.personas.discovery import discover
from klantreis.measure.value.table import refresh_values
from klantreis.measure.voice.stored import update_voice
from klantreis.model import ensure_built
from klantreis.present.web import page_results
from klantreis.present.web.auth import create_user
from klantreis.present.web.board import Board, results_fingerprint
from klantreis.present.web.routes.pages import (
    EVENT_NAMES,
    SUGGESTIONS,
    event_names,
    store_defaults,
)
from klantreis.present.web.routes.pages import stored_views as views_of
from klantreis.present.web.timeline import busy_persons
from klantreis.store import Store
from web.shop import login

pytestmark = pytest.mark.slow

PASSWORD = "stored-views-2026"
LANGUAGES = ("en", "nl", "da")
ONLY_DASHBOARD = (
    "[web]\nwarm = false\n[routine]\n"
    + "".join(
        f"{job} = 0\n"
        for job in ("model", "voice", "cases", "inbox", "value", "opportunities", "alerts")
    )
    + "review_requests = 0\ndashboard = 3600\n"
)
"""A routine that only serves the stored pages (its dashboard job finds them current)."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


def _prepared(path: Path) -> Path:
    """A store as the routine leaves it: model, texts, cases, values, personas, the map, and
    every view of the pages stored."""
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=200, seed=17)).iter_batches(20_000):
            kr.store.append(batch)
        ensure_built(kr)
        update_voice(kr.store, kr.engine)
        discover(kr)
        kr.expectations()
        kr.value(limit=0)
        kr.opportunities()
        kr.journey_map("six-phase")
        for lang in LANGUAGES:
            create_user(kr.store, f"reader-{lang}", PASSWORD, lang)
        assert store_defaults(Board(kr.settings, kr.store, as_built=True, stored="write")) > 0
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepared(tmp_path_factory.mktemp("stored-views") / "shop.duckdb")


def _same(stored: Any, computed: Any) -> bool:
    if isinstance(computed, FunnelResult):
        return stored.spec == computed.spec and stored.table.equals(computed.table)
    if isinstance(computed, PathsResult):
        return (
            stored.paths.equals(computed.paths)
            and stored.edges.equals(computed.edges)
            and stored.persons == computed.persons
        )
    if hasattr(computed, "table") and hasattr(computed, "meta"):
        return bool(stored.table.equals(computed.table)) and stored.meta == computed.meta
    return bool(stored == computed)


def test_every_stored_view_equals_computing_it(store: Path) -> None:
    with klantreis.open(store) as kr:
        reader = Board(kr.settings, kr.store, as_built=True, stored="only")
        computing = Board(kr.settings, kr.store, as_built=True)
        names = event_names(computing)
        views = views_of(reader, names)
        personas = kr.engine.scalar("SELECT count(*) FROM personas")
        assert personas >= 2
        # defaults of 7 pages, then 3 periods and each persona (map, expectations, voice,
        # funnels), with 2 pages of a period each period (no product catalogue here)
        assert len(views) == 7 + 3 * (4 + 2) + personas * 4
        compared = 0
        for view in views:
            stored = view(reader)  # raises NotStored when one is missing
            fresh = view(computing)
            for name, found in stored.items():
                if found is None:
                    continue
                assert found.ok and found.computed_at is not None and not found.stale, name
                assert _same(found.value, fresh[name].value), name
                compared += 1
        assert compared > 60
        stored_names = kr.store.connection.execute(
            "SELECT value FROM page_results WHERE analysis = ?", [EVENT_NAMES]
        ).fetchone()
        assert stored_names is not None and "Order Completed" in stored_names[0].decode()


def test_stored_views_default_stores_only_each_pages_default_view(store: Path) -> None:
    """`[web] stored_views = "default"`: a shop that would rather not pay for the period and
    persona views each refresh (minutes of CPU at 10M events) keeps only the default views."""
    from dataclasses import replace

    with klantreis.open(store) as kr:
        settings = replace(kr.settings, sections={**kr.settings.sections, "web": {
            "stored_views": "default"}})  # fmt: skip
        board = Board(settings, kr.store, as_built=True, stored="only")
        assert len(views_of(board, event_names(board))) == 7


def _client(server: Server, lang: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=120)
    login(client, f"reader-{lang}", PASSWORD)  # type: ignore[arg-type]
    return client


def test_a_restarted_server_shows_every_stored_view_at_once_in_utc(store: Path) -> None:
    with Store(store, read_only=True) as opened:
        persona = opened.connection.execute(
            "SELECT persona FROM personas ORDER BY size DESC LIMIT 1"
        ).fetchone()[0]
        # the default funnels view's time: its oldest analysis's
        stored_at = opened.connection.execute(
            "SELECT min(computed_at) FROM page_results "
            "WHERE analysis IN ('funnel', 'paths', 'phase_transitions') "
            "AND params NOT LIKE '%\"start\"%' AND params NOT LIKE '%\"persona\"%'"
        ).fetchone()[0]
    urls = [
        "/funnels",
        f"/funnels?persona={persona}",
        "/funnels?period=90d",
        f"/map?persona={persona}",
        "/map?period=30d",
        f"/expectations?persona={persona}",
        "/expectations?period=365d",
        f"/voice?persona={persona}",
        "/voice?period=90d",
        "/returns?period=90d",
        "/search?period=30d",
        "/sources",
        "/value",
    ]
    # a server whose clock is in Copenhagen: the times it shows say UTC and are UTC
    server = Server(store, config=ONLY_DASHBOARD, env={"TZ": "Europe/Copenhagen"}).start()
    try:
        for lang in LANGUAGES:
            client = _client(server, lang)
            for url in urls:
                started = time.perf_counter()
                html = client.get(url).text
                assert time.perf_counter() - started < 10, url
                assert 'id="page-progress"' not in html and 'id="map-progress"' not in html, (
                    lang,
                    url,
                )
                assert 'id="page-stale"' not in html and 'id="map-stale"' not in html, (lang, url)
            age = client.get("/funnels").text
            assert 'id="page-age"' in age and " UTC" in age, lang
        moment = re.search(r'id="page-age">[^<]*?(\d{1,2})[:.](\d{2})[:.]\d{2} UTC', age)
        assert moment, age[age.index('id="page-age"') :][:200]
        # the stored time is UTC (within the few minutes this test has run), and shown as it is
        assert abs((datetime.now(UTC).replace(tzinfo=None) - stored_at).total_seconds()) < 1800
        assert (int(moment.group(1)), int(moment.group(2))) == (stored_at.hour, stored_at.minute)
        _screenshots(server, persona)
    finally:
        server.stop()


def _screenshots(server: Server, persona: str) -> None:
    """The changed pages in each language, for a person to look at (test-artifacts/web)."""
    for lang, page in _signed_in_pages(server):
        for name, url in (
            ("funnels", "/funnels"),
            ("map-persona", f"/map?persona={persona}"),
            ("expectations-period", "/expectations?period=90d"),
        ):
            page.goto(f"{server.url}{url}")
            page.screenshot(path=str(ARTIFACTS / f"stored-{name}-{lang}.png"), full_page=True)


def _signed_in_pages(server: Server) -> Iterator[tuple[str, Any]]:
    """A browser page signed in as each language's reader, in turn (none without Chromium)."""
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            for lang in LANGUAGES:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{server.url}/login")
                page.fill("input[name=username]", f"reader-{lang}")
                page.fill("input[name=password]", PASSWORD)
                page.click("form button")
                page.wait_for_load_state()
                yield lang, page
                context.close()
        finally:
            browser.close()


def test_the_stored_figures_turn_stale_when_values_or_personas_change(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        for batch in simulate(SimulatorConfig(persons=200, seed=17)).iter_batches(20_000):
            kr.store.append(batch)
        ensure_built(kr)
        update_voice(kr.store, kr.engine)
        kr.expectations()
        kr.value(limit=0)
        # the model changed since the customer values were fitted, and the routine's
        # dashboard job stores the pages before its value job refits them (it failed, or
        # runs late): the stored scorecard's revenue at risk rests on the old values
        kr.store.set_meta("customer_values_fingerprint", "fitted on the model before")
        writer = Board(kr.settings, kr.store, as_built=True, stored="write")
        assert writer.run("expectations").ok and writer.written == 1
        before = results_fingerprint(kr.store)
        assert refresh_values(kr) is not None  # the value job
        assert results_fingerprint(kr.store) != before
        assert Board(kr.settings, kr.store, as_built=True, stored="only").run("expectations").stale

        before = results_fingerprint(kr.store)
        assert discover(kr).k >= 2
        assert results_fingerprint(kr.store) != before


def test_a_failed_analysis_is_stored_as_its_message_and_tried_again(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        for batch in simulate(SimulatorConfig(persons=40, seed=5)).iter_batches(20_000):
            kr.store.append(batch)
        ensure_built(kr)
        writer = Board(kr.settings, kr.store, as_built=True, stored="write")
        failed = writer.run("paths", steps=0)  # refused by its query: fails like OOM would
        assert failed.error and writer.written == 1
        # a page says so at once (it does not compute it again while a visitor waits)
        shown = Board(kr.settings, kr.store, as_built=True, stored="only").run("paths", steps=0)
        assert shown.error == failed.error and shown.computed_at is not None
        assert not shown.stale
        # the routine's next run tries it again
        again = Board(kr.settings, kr.store, as_built=True, stored="write")
        assert again.run("paths", steps=0).computed_at is None and again.written == 1


WORDS = {
    "en": ("All customers", "Last 90 days"),
    "nl": ("Alle klanten", "Laatste 90 dagen"),
    "da": ("Alle kunder", "Seneste 90 dage"),
}


def _form(html: str, form_id: str) -> str:
    """The form with this id, up to its end."""
    form = html[html.index(f'id="{form_id}"') :]
    return form[: form.index("</form>")]


def _selected(html: str, name: str) -> str | None:
    """The chosen option of the persona or period selector of `#cut-filters`."""
    form = _form(html, "cut-filters")
    select = form[form.index(f'name="{name}"') :]
    select = select[: select.index("</select>")]
    found = re.search(r'<option value="([^"]*)"\s*selected', select)
    return found.group(1) if found else None


def test_the_pages_with_stored_cut_views_offer_persona_and_period(store: Path) -> None:
    """The expectations, voice and funnels pages offer the persona and period the map offers
    (the routine stores those views): each choice shown chosen, a funnel's steps kept."""
    with Store(store, read_only=True) as opened:
        personas = [
            r[0] for r in opened.connection.execute("SELECT persona FROM personas").fetchall()
        ]
    persona = personas[0]
    steps = "step=Product+Viewed&step=Order+Completed"
    server = Server(store, config=ONLY_DASHBOARD).start()
    try:
        for lang in LANGUAGES:
            client = _client(server, lang)
            for page in ("/expectations", "/voice", "/funnels"):
                html = client.get(page).text
                assert 'id="cut-filters"' in html, (lang, page)
                for each in personas:
                    assert f'<option value="{each}"' in html, (lang, page, each)
                assert all(word in html for word in WORDS[lang]), (lang, page)
                # nothing chosen: every customer (the first option), all time
                assert _selected(html, "persona") is None, (lang, page)
                assert _selected(html, "period") == "all", (lang, page)
                chosen = client.get(f"{page}?persona={persona}&period=90d&{steps}").text
                assert _selected(chosen, "persona") == persona, (lang, page)
                assert _selected(chosen, "period") == "90d", (lang, page)
                if page == "/expectations":
                    # service recovery has no cut: a persona's view says its figures are all's
                    one = client.get(f"{page}?persona={persona}").text
                    assert 'id="recovery"' in one and 'id="recovery-uncut"' in one
                    assert 'id="recovery"' in html and 'id="recovery-uncut"' not in html
                if page == "/voice":  # so do the survey scores
                    one = client.get(f"{page}?persona={persona}").text
                    assert 'id="surveys"' in one and 'id="surveys-uncut"' in one
                    assert 'id="surveys"' in html and 'id="surveys-uncut"' not in html
            funnel = client.get(f"/funnels?persona={persona}&period=90d&{steps}").text
            form = _form(funnel, "cut-filters")
            assert '<input type="hidden" name="step" value="Product Viewed">' in form
            assert '<input type="hidden" name="step" value="Order Completed">' in form
            steps_form = _form(funnel, "funnel-form")
            assert f'name="persona" value="{persona}"' in steps_form
            assert 'name="period" value="90d"' in steps_form
        _choice_screenshots(server, persona)
    finally:
        server.stop()


def _choice_screenshots(server: Server, persona: str) -> None:
    """The pages with their new selectors, chosen through them, in each language."""
    for lang, page in _signed_in_pages(server):
        for name in ("expectations", "voice", "funnels"):
            page.goto(f"{server.url}/{name}")
            with page.expect_navigation():  # chosen on the page, as a shop owner does
                page.select_option("#cut-filters select[name=persona]", persona)
            assert f"persona={persona}" in page.url
            page.screenshot(path=str(ARTIFACTS / f"choices-{name}-{lang}.png"), full_page=True)
            page.goto(f"{server.url}/{name}")
            with page.expect_navigation():
                page.select_option("#cut-filters select[name=period]", "90d")
            assert "period=90d" in page.url
            page.screenshot(path=str(ARTIFACTS / f"choices-{name}-90d-{lang}.png"), full_page=True)
        page.goto(f"{server.url}/timeline")
        page.screenshot(path=str(ARTIFACTS / f"timeline-{lang}.png"), full_page=True)


def test_the_timeline_suggestions_are_stored_and_read_as_stored(
    store: Path, tmp_path: Path
) -> None:
    """The timeline's suggested persons group every journey event by person (seconds at
    10M): the routine stores them, a page reads them, and a person's timeline asks none."""
    copy = tmp_path / "shop.duckdb"
    shutil.copy(store, copy)
    with klantreis.open(copy) as kr:
        stored = page_results.read(kr.store, SUGGESTIONS, {})
        assert stored is not None and stored.value == busy_persons(kr.store)
        assert len(stored.value) == 12 and all(
            isinstance(p["last_seen"], datetime) for p in stored.value
        )
        person = stored.value[0]["person_id"]
        # what the page shows is what is stored: a marked row, at the stored fingerprint
        marked = [{**stored.value[0], "person_id": "stored-suggestion"}, *stored.value[1:]]
        page_results.write(kr.store, SUGGESTIONS, {}, marked, stored.fingerprint, 0.0)
    server = Server(copy, config=ONLY_DASHBOARD).start()
    try:
        client = _client(server, "en")
        html = client.get("/timeline").text
        assert "/timeline?person=stored-suggestion" in html
        assert f"/timeline?person={person}" not in html
        html = client.get(f"/timeline?person={person}").text
        assert 'id="timeline"' in html and "stored-suggestion" not in html
    finally:
        server.stop()
