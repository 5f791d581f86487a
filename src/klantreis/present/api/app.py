"""The HTTP server: the collector, the read API and the dashboard in one ASGI app.

Routers are discovered: every module in `klantreis.present.api.routes` that defines `router`
is included, so each capability adds its routes without editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI

from klantreis.config import Settings, load_settings
from klantreis.present.api import routes


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(title="klantreis", version="0.1.0")
    app.state.settings = settings
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    return app
