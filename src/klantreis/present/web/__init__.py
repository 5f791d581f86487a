"""The dashboard: server-rendered pages (Jinja2) with a little JavaScript and ECharts.

`klantreis.present.api.app.create_app` calls `mount(app)` (`dashboard.py`), which adds the pages,
the static files (all served by klantreis itself, nothing from a CDN) and the login-session
check that the read API accepts in place of a read key. Why this shape: docs/web.md.

The package itself imports nothing: the CLI draws maps with `mapview`, `i18n` and `terms`
without loading FastAPI (a second of start-up for every command).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("mount", "session_user"):
        from klantreis.present.web import dashboard as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
