"""The HTTP server: the collector, the read API and the dashboard in one ASGI app.

Routers are discovered: every module in `klantreis.present.api.routes` that defines `router`
is included, so each capability adds its routes without editing this file. The dashboard
(`klantreis.present.web`) is mounted through its `mount(app)` when it provides one.

DuckDB lets one process write a store file, so the app opens the store once, in its lifespan,
and every write goes through the one writer (`klantreis.collect.ingest.Ingest`).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from klantreis.api import Klantreis
from klantreis.collect.events import InvalidEvent
from klantreis.collect.ingest import Ingest, Overloaded, WriterStopped
from klantreis.collect.keys import KeyRing, publish_keys
from klantreis.config import ConfigError, Settings, StoreSettings, load_settings
from klantreis.errors import KlantreisError
from klantreis.measure.contract import describe
from klantreis.present.api import routes
from klantreis.present.api.admission import Admission, AdmissionMiddleware
from klantreis.present.api.limits import BodyLimit
from klantreis.present.api.routine import start_routine
from klantreis.present.api.server_file import ServerFile
from klantreis.present.api.settings import CollectorSettings
from klantreis.store import Store, StoreLockedError
from klantreis.store.lake import Lake
from klantreis.store.sharing import lend

log = logging.getLogger(__name__)


class CollectorCORS:
    """CORS for the collector paths only: browsers send events from the shop's own origin.

    The read API and dashboard stay same-origin; browser SDKs never send cookies, so the
    collector allows any origin without credentials.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer (collector and read API alike)."""

    error: str = Field(description="What is wrong, in one line.")
    detail: str = Field(description="The same text, where FastAPI clients look for it.")
    field: str | None = Field(
        None, description="The parameter or setting at fault (e.g. `step`, `start`, `window`)."
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input: the message names what and where."},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type, range or choice."},
}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    # `detail` keeps FastAPI's usual shape; `error` is what the collector documents.
    return JSONResponse({"error": message, "detail": message, **extra}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidEvent)
    async def _invalid_event(_: Request, exc: InvalidEvent) -> JSONResponse:
        return _error(400, exc.reason, field=exc.field)

    @app.exception_handler(KlantreisError)
    async def _user_error(_: Request, exc: KlantreisError) -> JSONResponse:
        # The one handler for every error a user can fix: the message and the field it names.
        return _error(400, str(exc), field=exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # A parameter a query model refused: 422, in the body every other error has, worded
        # as the CLI and the Python API word it (`steps: Input should be ...`).
        field, reason = describe(list(exc.errors()))
        return _error(422, f"{field}: {reason}" if field else reason, field=field)

    @app.exception_handler(Overloaded)
    async def _overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        response = _error(429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(WriterStopped)
    async def _stopped(_: Request, exc: WriterStopped) -> JSONResponse:
        response = _error(503, str(exc))
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StoreLockedError)
    async def _locked(_: Request, exc: StoreLockedError) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response


def _include_routers(app: FastAPI) -> None:
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)


def _mount_web(app: FastAPI) -> None:
    try:
        web = importlib.import_module("klantreis.present.web")
    except ImportError:  # pragma: no cover - the package ships with klantreis
        return
    mount = getattr(web, "mount", None)
    if mount is not None:
        mount(app)


def advertise(app: FastAPI, host: str, port: int) -> ServerFile | None:
    """Write `<store>.server.json` once the server listens, so CLI commands reach it.

    Called by `klantreis serve` after the socket is bound: a file naming a port that another
    process holds would hand that process the admin token.
    """
    store: Store | None = app.state.store
    if store is None or store.read_only or not app.state.admin_token:
        return None  # beside a lake no store is open here: commands run on their own
    server_file = ServerFile.new(store.path, host, port, app.state.admin_token)
    try:
        server_file.write()
    except OSError as exc:
        log.warning("cannot write %s: %s", ServerFile.path_for(store.path), exc)
        return None
    app.state.server_file = server_file
    return server_file


def _commit_channel(app: FastAPI, ingest: Ingest) -> AbstractAsyncContextManager[Any]:
    """The writer's end of `serve --workers N`'s commit channel, when the app is that writer."""
    path = app.state.commit_channel
    if path is None:
        return nullcontext()
    from klantreis.present.api.channel import CommitChannel

    return CommitChannel(path, ingest, app.state.keyring).serving()


def open_home(settings: Settings, lake: Path | None, *, dashboard: bool = False) -> Store | None:
    """The store file of this server, or None for a lake's collector.

    A lake's collectors hold no store open: the state file (keys, users, settings, what the
    analyses store) is written by the CLI's commands and scheduled jobs, which DuckDB would
    refuse while any other process had it open, even read-only. The collectors check write
    keys against the hashes published in the lake (`collector_keys`). A lake's dashboard
    (`serve --dashboard`) holds the state file as a DuckDB shop's server holds its store:
    logins, cases and settings are written there, and the commands run beside it are carried
    out inside it (`present/cli/forward.py`)."""
    if lake is None or dashboard:
        return Store.configured(settings)
    collector_keys(settings.store, lake)
    return None


def collector_keys(state: Path, lake: Path) -> KeyRing:
    """The write keys of a lake's collector, from the lake (`lake/_keys.json`).

    A lake whose keys were never published (keys made before `klantreis keys create` published
    them, or by the Python API) gets them from the state file once, opened read-only for
    that moment."""
    published = Lake(lake).keys_path
    if not published.exists():
        if not state.exists():
            raise ConfigError(
                f"{state} does not exist; create a write key first: "
                "klantreis keys create --name NAME",
                field="store.state",
            )
        with Store(state, read_only=True) as handle:
            publish_keys(handle, lake)
    return KeyRing(published=published)


def lake_dashboard(settings: Settings) -> Settings:
    """The settings a lake's dashboard reads with: its engine is DuckDB over the tables the
    scheduled jobs wrote under `[engine] tables_path` (`store/lake_reader.py`; why: docs/
    scale-out.md, "The dashboard on a lake"). The commands run beside it keep the shop's own
    engine: they load their settings themselves."""
    from klantreis.store import lake_reader
    from klantreis.store.engines import register_engine

    if not settings.engine_options.get("tables_path"):
        raise ConfigError(
            "a lake's dashboard reads the tables the scheduled jobs write: set "
            "[engine] tables_path (docs/scale-out.md)",
            field="engine.tables_path",
        )
    from klantreis.present.web.settings import WebSettings

    register_engine(lake_reader.FACTORY)
    cap = settings.section(WebSettings).lake_memory_limit
    options = {**settings.engine_options, lake_reader.MEMORY_LIMIT: cap}
    return replace(settings, engine=lake_reader.CAPABILITIES.name, engine_options=options)


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, dashboard: bool = False
) -> FastAPI:
    """The app for `settings`; pass `store` to serve an already open store (tests, notebooks).

    The store is opened when the app starts (lifespan), not here, so importing or building the
    app never takes DuckDB's file lock. On a lake, `dashboard` serves the dashboard and the
    read API too (`lake_dashboard`); without it a lake's server only collects.
    """
    settings = settings or load_settings()
    collector = settings.section(CollectorSettings)  # a bad value stops here, named
    lake_pages = dashboard and settings.section(StoreSettings).lake is not None
    served = lake_dashboard(settings) if lake_pages else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        lake = settings.section(StoreSettings).lake
        handle: Store | None = None
        target: Store | Lake
        if store is not None or lake is None:
            handle = target = store if store is not None else Store.configured(settings)
            keyring = KeyRing(handle)
        elif lake_pages:
            handle = Store.configured(settings)  # the state file: logins, cases, settings
            keyring = KeyRing(handle)
        else:
            keyring = collector_keys(settings.store, lake)
        if lake is not None:
            target = Lake(lake)
        ingest = Ingest(
            target,
            max_pending=collector.max_pending_events,
            merge_interval=collector.merge_interval,
            max_queue_age=collector.max_queue_age,
        ).start()
        admission = Admission(
            ingest,
            max_loop_lag=collector.max_loop_lag,
            max_in_flight=collector.max_requests_in_flight,
        )
        app.state.store = handle
        app.state.keyring = keyring
        app.state.ingest = ingest
        app.state.admission = admission
        app.state.admin_token = secrets.token_urlsafe(32)
        # A lake's collectors only collect: the routine's jobs write to a store (and would run
        # once per collector); schedule them beside the lake (docs/scale-out.md).
        routine = app.state.routine = (
            None
            if lake is not None or handle is None
            else start_routine(app, Klantreis.over(handle, settings))
        )
        try:
            async with admission.watching(), _commit_channel(app, ingest):
                with lend(handle) if handle is not None else nullcontext():
                    yield
        finally:
            if routine is not None:
                routine.stop()  # the running job finishes (or its transaction is dropped)
            app.state.routine = None
            if app.state.server_file is not None:
                app.state.server_file.remove()
                app.state.server_file = None
            ingest.stop()
            app.state.store = None
            if own and handle is not None:
                handle.close()

    app = FastAPI(
        title="klantreis",
        version="0.1.0",
        description="Collector (Segment HTTP Tracking API) and read API of klantreis.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = served
    app.state.lake_dashboard = lake_pages
    app.state.store = None
    app.state.keyring = None
    app.state.ingest = None
    app.state.admission = None
    # Set by the dashboard's mount(app): Callable[[Request], str | None] naming the logged-in
    # user of a request, which `deps.ReadAccess` accepts in place of a read key.
    app.state.session_user_resolver = None
    # The local admin channel (routes/admin.py): a token made at start-up, and the file beside
    # the store that `klantreis serve` writes once it listens (apps in tests do not).
    app.state.admin_token = None
    app.state.server_file = None
    # Set by `serve --workers N` (present/api/workers.py): the Unix socket the HTTP workers
    # send validated batches to.
    app.state.commit_channel = None
    _install_error_handlers(app)
    _include_routers(app)
    _mount_web(app)
    app.add_middleware(AdmissionMiddleware)  # inside CORS: browsers can read its 429
    app.add_middleware(CollectorCORS)
    app.add_middleware(BodyLimit)  # every route but the collector's (/v1/)
    return app
