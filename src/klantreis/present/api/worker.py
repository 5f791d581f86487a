"""One HTTP worker process of `klantreis serve --workers N`.

Parsing and validating event batches is Python work that one process does on one core; a
worker does it on another. It serves the collector's write routes itself (the same handlers,
the same admission control and limits) and hands each validated batch to the writer over the
commit channel (`channel.py`), answering 200 only after the writer committed it. Every other
request goes to the writer unchanged (`proxy.py`). The worker holds no store, so killing it
loses nothing acknowledged; the supervisor (`workers.py`) starts a new one.

Run by the supervisor as `python -m klantreis.present.api.worker` with the shared listening
socket inherited as a file descriptor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from klantreis.config import Settings, load_settings
from klantreis.present.api.admission import Admission, AdmissionMiddleware
from klantreis.present.api.channel import WriterLink
from klantreis.present.api.limits import BodyLimit
from klantreis.present.api.proxy import WriterProxy
from klantreis.present.api.routes import collector
from klantreis.present.api.server import server_config
from klantreis.present.api.settings import CollectorSettings

TOKEN_ENV = "KLANTREIS_WORKER_TOKEN"
"""The secret the writer believes forwarded client addresses with (never on a command line)."""


def collector_write_routes() -> list[APIRoute]:
    """The collector's POST routes (`/v1/batch`, `/v1/track`, ...): what a worker serves."""
    return [
        route
        for route in collector.router.routes
        if isinstance(route, APIRoute) and "POST" in (route.methods or ())
    ]


def create_worker_app(settings: Settings, *, writer_url: str, channel: Path, token: str) -> FastAPI:
    """The worker's app: the collector's write routes, everything else passed to the writer."""
    from klantreis.present.api.app import CollectorCORS, _install_error_handlers

    section = settings.section(CollectorSettings)
    proxy = WriterProxy(writer_url, token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        link = WriterLink(channel, max_queue_age=section.max_queue_age)
        admission = Admission(
            link,  # type: ignore[arg-type]  # the same interface as Ingest
            max_loop_lag=section.max_loop_lag,
            max_in_flight=section.max_requests_in_flight,
        )
        async with link.linked():
            app.state.ingest = link
            app.state.keyring = link.keyring
            app.state.admission = admission
            watcher = asyncio.create_task(_exit_with_parent(), name="klantreis-orphan-watch")
            try:
                async with admission.watching():
                    yield
            finally:
                watcher.cancel()
                app.state.ingest = None
                await proxy.aclose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.ingest = None
    app.state.keyring = None
    app.state.admission = None
    _install_error_handlers(app)
    app.router.routes.extend(collector_write_routes())

    @app.get("/v1/health")
    async def health(request: Request) -> JSONResponse:
        """The writer's health (queue, commits, merges) and this worker's own door: a worker
        starved of CPU refuses with 429 by its own loop lag, which only it can tell."""
        admission: Admission | None = request.app.state.admission
        own = {
            "pid": os.getpid(),
            "loop_lag_ms": round(admission.loop_lag * 1000) if admission else None,
            "in_flight": admission.in_flight if admission else 0,
            "refused": admission.refused if admission else 0,
        }
        try:
            answer = await proxy.client.get("/v1/health", timeout=10)
            body = answer.json()
        except (httpx.HTTPError, ValueError):
            body = {"ok": False, "error": "the store writer is not reachable"}
        return JSONResponse({**body, "worker": own})

    app.router.mount("/", proxy)
    app.add_middleware(AdmissionMiddleware)
    app.add_middleware(CollectorCORS)
    app.add_middleware(BodyLimit)
    return app


async def _exit_with_parent() -> None:
    """A worker whose supervisor died (killed with SIGKILL) stops instead of lingering."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    logging.getLogger(__name__).warning("the server process is gone; this worker stops")
    os.kill(os.getpid(), 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fd", type=int, required=True, help="the inherited listening socket")
    parser.add_argument("--store", required=True)
    parser.add_argument("--writer", required=True, help="the writer's loopback URL")
    parser.add_argument("--channel", required=True, help="the writer's commit socket")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--forwarded-allow-ips", default="")
    args = parser.parse_args()
    logging.getLogger("klantreis").setLevel(logging.INFO)
    settings = load_settings(args.store)
    token = os.environ.pop(TOKEN_ENV, "")
    app = create_worker_app(
        settings, writer_url=args.writer, channel=Path(args.channel), token=token
    )
    sock = socket.socket(fileno=args.fd)
    host, port = sock.getsockname()[:2]
    config = server_config(
        app,
        settings,
        host=host,
        port=port,
        access_log=args.access_log,
        log_level="info",
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
