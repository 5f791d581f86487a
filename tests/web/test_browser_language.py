"""In headless Chromium on the demo shop: a Dutch and a Danish reader see their own language on
every dashboard page, and a loyal customer's timeline stays short until it is opened.

The store is filled by `klantreis demo --lang nl` (its terminal map is Dutch), users are made
with `klantreis users create --locale nl|da` and `klantreis serve` runs as a subprocess. Text is
collected from the rendered pages (customer quotes and `<code>` ids left out) and checked
against the English side of the vocabulary catalogue. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from servers import cli_steps

from web.server import Server
from web.test_browser import ARTIFACTS, CHROMIUM, chromium, settle, wait_for_map
from web.vocabulary_check import english_words

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "journey-map-2026"
PAGES = ("/map", "/expectations", "/cases", "/funnels", "/voice", "/timeline", "/settings")
VISIBLE_TEXT = """() => {
  const skip = el => el.closest('script, style, q, code, .quote');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement)) parts.push(node.textContent);
  }
  for (const option of document.querySelectorAll('option')) parts.push(option.label);
  return parts.join(' ');
}"""
"""Every text node, also inside collapsed groups (stricter than what is on screen)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("web-lang")
    store = folder / "demo.duckdb"
    # the commands in one process, each run as the CLI runs it (a process each paid its imports)
    demo, *_ = cli_steps(
        ("demo", "--no-browser", "--lang", "nl", "--out", str(folder / "out"),
         "--store", str(store), "--persons", "600"),
        *(("users", "create", f"reader-{lang}", "--password", PASSWORD, "--locale", lang)
          for lang in ("nl", "da")),
        env={"KLANTREIS_STORE": str(store)},
    )  # fmt: skip
    assert "Klantreiskaart" in demo.stdout and "Overweging" in demo.stdout
    running = Server(store).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def signed_in(browser: Any, server: Server, lang: str) -> Any:
    page = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", f"reader-{lang}")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url(re.compile(r"/map"))
    return page


def visit(page: Any, url: str) -> str:
    page.goto(url)
    if "/map" in url:
        wait_for_map(page)
    settle(page)
    return str(page.evaluate(VISIBLE_TEXT))


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_every_page_reads_in_the_language(server: Server, browser: Any, lang: str) -> None:
    page = signed_in(browser, server, lang)
    found: dict[str, list[str]] = {}
    urls = [f"{server.url}{p}" for p in PAGES] + [f"{server.url}/map?definition=aida"]
    for url in urls:
        found[url] = english_words(visit(page, url), lang)
        name = re.sub(r"\W+", "-", url.removeprefix(server.url)).strip("-")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lang-{lang}-{name}.png"), full_page=True)
    # The drill-down of an expectation and the timeline of the person it opens.
    page.goto(f"{server.url}/expectations")
    page.locator("#scorecard tbody tr a").first.click()
    page.wait_for_selector("#breached-persons")
    found[page.url] = english_words(str(page.evaluate(VISIBLE_TEXT)), lang)
    page.locator("#breached-persons a").first.click()
    page.wait_for_selector("#timeline .journey")
    found[page.url] = english_words(str(page.evaluate(VISIBLE_TEXT)), lang)
    assert not {url: words for url, words in found.items() if words}


def test_a_loyal_customers_timeline_is_short_and_shows_its_breaches(
    server: Server, browser: Any
) -> None:
    page = signed_in(browser, server, "nl")
    page.goto(f"{server.url}/timeline")
    page.locator("a[href^='/timeline?person=']").first.click()  # the busiest person
    page.wait_for_selector("#timeline .journey")
    events = page.locator("#timeline .session li").count()
    # Far beyond the 40 entries above which a history is shown collapsed to its journeys.
    assert events >= 120, "the busiest demo customer should have well over a hundred events"
    height = page.evaluate("() => document.body.scrollHeight")
    assert height < 2000, f"{events} events take {height} px collapsed"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lang-nl-timeline-busy.png"), full_page=True)
    journeys = page.locator("#timeline .journey")
    assert journeys.count() >= 2
    breached = page.locator("#timeline .journey.has-breach")
    assert breached.count() >= 1, "a customer with over a hundred events and no breach at all?"
    # Breaches are in view without opening anything; the events are not.
    assert breached.first.locator(".moments li.breach").first.is_visible()
    assert breached.first.locator(".pill.pain").is_visible()
    assert not journeys.first.locator(".session li").first.is_visible()
    journeys.first.locator("summary").first.click()
    journeys.first.locator("details.session summary").first.click()
    assert journeys.first.locator(".session li").first.is_visible()


CHART_NUMBERS = """() => {
  const node = document.querySelector('#funnel-chart');
  const option = echarts.getInstanceByDom(node).getOption();
  return [
    option.xAxis[0].axisLabel.formatter(1200),
    option.series[0].label.formatter({value: 1439}),
    option.tooltip[0].valueFormatter(1439),
  ];
}"""
"""How the funnel chart writes 1,200 on its axis and 1,439 on a bar and in a tooltip."""


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_the_charts_write_numbers_as_the_language_does(
    server: Server, browser: Any, lang: str
) -> None:
    """The funnel's bars, axis and tooltips say "1.439" to a Dutch or Danish reader, as the
    table under them does (ECharts writes "1,439" in any language by itself)."""
    page = signed_in(browser, server, lang)
    page.goto(f"{server.url}/funnels")
    settle(page)
    page.wait_for_selector("#funnel-chart[data-ready]")
    assert page.evaluate(CHART_NUMBERS) == ["1.200", "1.439", "1.439"]
