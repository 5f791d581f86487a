"""@segment/analytics-next from npm, in headless Chromium, on a small test shop page.

The shop page and the SDK's own browser build are served by a static server on one loopback
port (standing in for the shop and its CDN); the collector runs on another, so the browser
also goes through CORS exactly as it would in production.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server

SHOP = Path(__file__).parent / "shop"
UMD = SHOP / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ensure_sdk() -> None:
    """`npm ci` the pinned SDK into shop/node_modules (git-ignored) when it is not there yet."""
    if (UMD / "index.js").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed; cannot fetch @segment/analytics-next")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=SHOP,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 or not (UMD / "index.js").exists():
        pytest.skip(
            f"npm ci of @segment/analytics-next failed (registry unreachable?): "
            f"{result.stderr.strip()[-300:]}"
        )


class ShopFiles(http.server.SimpleHTTPRequestHandler):
    """/shop/* from tests/collector/shop; /sdk/* and /analytics-next/bundles/* from the SDK."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        for prefix, root in (("/sdk/", UMD), ("/analytics-next/bundles/", UMD), ("/shop/", SHOP)):
            if path.startswith(prefix):
                return str(root / path[len(prefix) :])
        return str(SHOP / "missing")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    ensure_sdk()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(ShopFiles))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for(condition, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("batching", [False, True], ids=["per-event", "batching"])
def test_analytics_next_sends_to_klantreis(
    server: Server, shop_url: str, browser: object, batching: bool
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    posted: list[str] = []
    page.on(
        "request",
        lambda req: posted.append(req.url.rsplit("/", 1)[1]) if req.method == "POST" else None,
    )
    query = (
        f"writeKey={server.write_key}&apiHost=127.0.0.1:{server.port}/v1&batching={int(batching)}"
    )
    page.goto(f"{shop_url}/shop/index.html?{query}")
    page.evaluate("window.shopReady")
    page.click("#add-to-cart")
    page.click("#checkout")
    records = wait_for(
        lambda: (r := page.evaluate("window.sent.concat(window.failed)")) and len(r) == 4 and r
    )
    assert records and len(records) == 4, (records, console)
    assert page.evaluate("window.failed") == [], console

    def stored(message_id: str) -> dict | None:
        response = httpx.get(
            f"{server.url}/v1/messages/{message_id}", auth=(server.read_key, ""), timeout=5
        )
        return response.json() if response.status_code == 200 else None

    rows = {r["messageId"]: wait_for(lambda r=r: stored(r["messageId"])) for r in records}
    assert all(rows.values()), (rows, console)
    events = sorted(row["event"] for row in rows.values())
    assert events == ["Checkout Started", "Identify", "Page Viewed", "Product Added"]
    assert {row["channel"] for row in rows.values()} == {"web"}
    # The SDK really used klantreis' endpoints for its mode: /v1/b batches or /v1/t|p|i.
    assert set(posted) == ({"b"} if batching else {"p", "i", "t"}), posted
    assert all(row["anonymous_id"] for row in rows.values())
    page.close()
