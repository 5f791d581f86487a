"""End to end in headless Debian Chromium: the real server over the demo shop.

The store is filled by `klantreis demo`, reviews carrying script, an event handler and a
`javascript:` link are imported with `klantreis import csv`, a user is made with
`klantreis users create`, and `klantreis serve` runs as a subprocess. The browser logs in,
opens every page, chooses a persona, builds a funnel, exports the map and shares it; console
errors fail the test, and screenshots land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from servers import cli_steps

from web.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright: one per module that uses it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
USER, PASSWORD = "owner", "journey-map-2026"
XSS_REVIEWS = [
    ("xss-1", "<script>window.__pwned = 'script'</script>Late again", 1),
    ("xss-2", "<img src=x onerror=\"window.__pwned = 'img'\">Broken box", 1),
    ("xss-3", "<a href=\"javascript:window.__pwned='link'\">my photos</a> never arrived", 2),
]


def xss_reviews(folder: Path) -> tuple[str, ...]:
    """Reviews for the real CSV import: the file written, and its `klantreis import csv`
    command with the documented review mapping."""
    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(
            [
                "review_id",
                "created",
                "order_ref",
                "consumer_id",
                "stars",
                "title",
                "text",
                "language",
                "verified",
            ]
        )
        for i, (person, text, stars) in enumerate(XSS_REVIEWS):
            writer.writerow(
                [
                    f"x{i}",
                    1767225600 + i * 3600,
                    f"xo{i}",
                    person,
                    stars,
                    "<b onmouseover=window.__pwned='title'>title</b>",
                    text,
                    "en",
                    "true",
                ]
            )
    return ("import", "csv", str(path), "--mapping", str(REPO / "docs/mappings/reviews.yaml"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("web-e2e")
    store = folder / "demo.duckdb"
    # one process for the commands (each run as the CLI runs it): a process each paid its
    # imports four times; the server is a process of its own, as a user runs it
    cli_steps(
        ("demo", "--no-browser", "--out", str(folder / "out"), "--store", str(store),
         "--persons", "600"),
        xss_reviews(folder),
        ("personas", "discover"),
        ("users", "create", USER, "--password", PASSWORD, "--locale", "en"),
        env={"KLANTREIS_STORE": str(store)},
    )  # fmt: skip
    running = Server(store).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are recorded."""

    def __init__(self, context: Any) -> None:
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"),
        )
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def pwned(self) -> Any:
        return self.page.evaluate("() => window.__pwned")

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def wait_for_map(page: Any, timeout: float = 240_000) -> None:
    """The map page reloads itself while the map is computed in the background."""
    page.wait_for_selector("#journey-map svg", timeout=timeout)


def settle(page: Any, timeout_s: float = 240) -> None:
    """Wait while the page shows progress (it reloads itself until its analyses are done)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_load_state()
        try:
            if page.locator("#page-progress, #map-progress").count() == 0:
                return
        except Exception:  # the page navigated while we looked: look again
            pass
        page.wait_for_timeout(500)
    raise AssertionError(f"{page.url} still computing after {timeout_s} s")


def log_in(w: Watched, server: Server) -> None:
    w.page.goto(f"{server.url}/map")
    assert "/login" in w.page.url
    w.page.fill("input[name=username]", USER)
    w.page.fill("input[name=password]", PASSWORD)
    w.page.click("form[action='/login'] button")
    w.page.wait_for_url(re.compile(r"/map"))


def test_every_page_in_the_browser(server: Server, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(
        viewport={"width": 1500, "height": 1000}, locale="en-GB", accept_downloads=True
    )
    w = Watched(context)
    log_in(w, server)
    wait_for_map(w.page)
    assert w.page.locator("#journey-map svg text", has_text="Awareness").count() >= 1
    w.shot("01-journey-map")

    personas = w.page.locator("select[name=persona] option")
    assert personas.count() >= 2, "the demo's personas should be selectable"
    choice = personas.nth(1).get_attribute("value")
    w.page.select_option("select[name=persona]", choice)
    w.page.wait_for_url(re.compile(r"persona="))
    wait_for_map(w.page)
    assert w.page.locator("select[name=persona]").input_value() == choice
    w.shot("02-journey-map-persona")

    w.page.select_option("select[name=period]", "90d")
    w.page.wait_for_url(re.compile(r"period=90d"))
    wait_for_map(w.page)

    for kind, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        with w.page.expect_download(timeout=240_000) as download:
            w.page.click(f"#export-{kind}")
        saved = tmp_path / f"map.{kind}"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(magic), kind
        (ARTIFACTS / f"journey-map.{kind}").write_bytes(saved.read_bytes())

    w.page.click("#share")
    link = w.page.locator("#share-url").input_value()
    assert "/share/" in link
    anonymous = Watched(browser.new_context(viewport={"width": 1500, "height": 1000}))
    anonymous.page.goto(link)
    wait_for_map(anonymous.page)
    assert anonymous.page.locator("form[action='/logout']").count() == 0
    anonymous.shot("03-shared-map")
    assert anonymous.errors == []

    w.page.goto(f"{server.url}/expectations")
    settle(w.page)
    assert w.page.locator("#scorecard tbody tr").count() >= 3
    w.page.wait_for_selector("#trend-chart[data-ready='1']")
    w.shot("04-expectations")
    w.page.locator("#scorecard tbody tr a").first.click()
    w.page.wait_for_selector("#breached-persons a[href^='/timeline?person=']")
    w.shot("04b-expectation-persons")

    w.page.goto(f"{server.url}/funnels")
    settle(w.page)
    steps = w.page.locator("#funnel-steps select")
    before = steps.count()
    w.page.click("#add-step")
    assert steps.count() == before + 1
    events = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
    while steps.count() < len(events):
        w.page.click("#add-step")
    while steps.count() > len(events):
        w.page.locator(".remove-step").last.click()
    for i, event in enumerate(events):
        steps.nth(i).select_option(event)
    w.page.click("#run-funnel")
    w.page.wait_for_url(re.compile(r"step=Order\+Completed"))
    settle(w.page)
    w.page.wait_for_selector("#funnel-chart[data-ready='1']")
    assert w.page.locator("#funnel-table tbody tr").count() == len(events)
    selected = [s.input_value() for s in w.page.locator("#funnel-steps select").all()]
    assert selected == events
    w.shot("05-funnels")

    w.page.goto(f"{server.url}/voice")
    settle(w.page)
    w.page.wait_for_selector("#topics-chart[data-ready='1']")
    w.shot("06-voice")

    w.page.goto(f"{server.url}/timeline")
    w.page.locator("a[href^='/timeline?person=']").first.click()
    w.page.wait_for_selector("#timeline .journey")  # a long history: collapsed journeys
    w.shot("07-timeline")

    w.page.goto(f"{server.url}/settings")
    w.page.fill("#keys input[name=name]", "shop")
    w.page.click("#create-key")
    assert w.page.locator("#new-key").input_value().startswith("krw_")
    w.shot("08-settings")

    w.page.select_option("select[name=locale]", "nl")
    w.page.wait_for_url(re.compile(r"/settings$"))  # back from the key form's POST result
    assert w.page.locator("nav a", has_text="Klantreiskaart").count() == 1
    w.page.goto(f"{server.url}/map")
    wait_for_map(w.page)
    w.shot("09-journey-map-nl")

    assert w.errors == [], w.errors
    assert w.pwned() is None


def test_customer_text_never_runs(server: Server, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    w = Watched(context)
    log_in(w, server)
    for person, text, _stars in XSS_REVIEWS:
        w.page.goto(f"{server.url}/timeline?person={person}")
        w.page.wait_for_selector("#timeline li")
        shown = w.page.locator("#timeline").inner_text()
        assert text in shown  # the markup is there as text, visible to the reader
        assert (
            w.page.locator("#timeline img, #timeline script, #timeline a, #timeline b").count() == 0
        )
        assert w.pwned() is None
    w.shot("10-timeline-xss")
    for url in ("/map", "/voice", "/expectations", "/funnels"):
        w.page.goto(f"{server.url}{url}")
        if url == "/map":
            wait_for_map(w.page)
        settle(w.page)
        w.page.mouse.move(300, 300)
        assert w.pwned() is None, url
    w.page.goto(f"{server.url}/map")
    wait_for_map(w.page)
    with w.page.expect_download(timeout=240_000) as download:
        w.page.click("#export-svg")
    svg = tmp_path / "map.svg"
    download.value.save_as(svg)
    w.page.goto(svg.as_uri())
    assert w.pwned() is None
    assert w.errors == [], w.errors
