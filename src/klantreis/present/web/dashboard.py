"""The dashboard mounted on the FastAPI app: pages, static files, the login-session check.

`klantreis.present.api.app.create_app` calls `mount(app)`, which adds the pages, the static
files (all served by klantreis itself, nothing from a CDN) and the login-session check that
the read API accepts in place of a read key. Why this shape: docs/web.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from klantreis.present.web import routes
from klantreis.present.web.cache import ResultCache
from klantreis.present.web.context import (
    CsrfRejected,
    LoginRequired,
    login_url,
    render,
    resolve_user,
    viewer,
)


def session_user(request: Request) -> str | None:
    """The logged-in dashboard user's name, for `deps.ReadAccess`."""
    user = resolve_user(request)
    return user.username if user else None


def mount(app: FastAPI) -> None:
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    static = resources.files("klantreis.present.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.state.session_user_resolver = session_user
    cache = app.state.web_cache = ResultCache()
    server_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        # Background computations end before the server's lifespan closes the store.
        async with server_lifespan(app) as state:
            from klantreis.present.web.settings import web_settings

            if web_settings(app).warm and getattr(app.state, "store", None) is not None:
                from klantreis.present.web.routes import journey_map, pages

                journey_map.warm(app)
                routine = getattr(app.state, "routine", None)
                if routine is None or "dashboard" not in {job.name for job in routine.jobs}:
                    pages.warm(app)
                # else the routine's dashboard job warms them after its other jobs: a page's
                # analyses and the routine's jobs never share the memory cap at start-up
            try:
                yield state
            finally:
                await run_in_threadpool(cache.shutdown)

    app.router.lifespan_context = lifespan

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _: CsrfRejected) -> Response:
        who = viewer(request, require_login=False)
        return render(
            request,
            who,
            "message.html",
            status=403,
            message=who.lang.gettext(
                "This form has expired or did not come from this site; reload the page and "
                "try again."
            ),
        )
