"""PNG and PDF of the journey map, printed by headless Chromium from the page's own SVG.

Chromium renders the very SVG the page shows, so the exports look like the page. It runs with
JavaScript disabled and every network request refused: customer text in the map cannot run or
fetch anything while it is printed.
"""

from __future__ import annotations

import os
import shutil
from typing import Literal

from klantreis.config import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ExportUnavailable(RuntimeError):
    """No Chromium on this machine to print PNG/PDF with."""


def chromium_path(settings: Settings) -> str:
    from klantreis.present.web.settings import WebSettings

    configured = settings.section(WebSettings).chromium or os.environ.get("KLANTREIS_CHROMIUM")
    candidates = [configured] if configured else ["chromium", "chromium-browser", "google-chrome"]
    for candidate in candidates:
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
    raise ExportUnavailable(
        "PNG and PDF export need Chromium: install it (`apt-get install chromium`) or set "
        '[web] chromium = "/path/to/chromium" in klantreis.toml; the SVG export works without'
    )


def _page_html(svg: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body{margin:0;padding:0;background:#fff}svg{display:block}</style>"
        f"</head><body>{svg}</body></html>"
    )


async def render(
    svg: str, width: int, height: int, kind: Literal["png", "pdf"], settings: Settings
) -> bytes:
    """PNG (2× scale) or one-page PDF of exactly the map's size."""
    from playwright.async_api import async_playwright

    executable = chromium_path(settings)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                java_script_enabled=False,
                viewport={"width": width, "height": height},
                device_scale_factor=2 if kind == "png" else 1,
            )
            await context.route("**/*", lambda route: route.abort())
            page = await context.new_page()
            await page.set_content(_page_html(svg), wait_until="load")
            if kind == "png":
                return await page.screenshot(full_page=True, type="png")
            return await page.pdf(
                width=f"{width}px", height=f"{height + 2}px", print_background=True, page_ranges="1"
            )
        finally:
            await browser.close()
