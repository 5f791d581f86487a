"""`klantreis serve`: the collector, the read API and the dashboard in one process.

With `--workers N` (N >= 2), N HTTP processes read and validate events on the other cores and
hand them to this process, which alone writes the store (present/api/workers.py).

The server owns the store file while it runs (DuckDB allows one writing process). It writes
`<store>.server.json` (its loopback address and an admin token, readable by its own user only),
and every other `klantreis` command on the same store is carried out inside the server through
that channel, with the same output and exit code (present/cli/forward.py).

`X-Forwarded-For` names the client only when the request comes from a proxy listed in
`[web] trusted_proxies` (or `FORWARDED_ALLOW_IPS`): trusted from anyone, it would let every
request claim a new address and pass the per-address login limit.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Any

import typer

from klantreis.present.cli.options import StoreOption, err_console, friendly_errors


def register(app: typer.Typer) -> None:
    @app.command()
    @friendly_errors
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
        store: StoreOption = None,
        access_log: Annotated[
            bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
        ] = False,
        workers: Annotated[
            int,
            typer.Option(
                help="HTTP processes that read and validate events; with 2 or more, this "
                "process only writes the store and serves the read API and dashboard.",
                min=1,
                max=64,
            ),
        ] = 1,
        dashboard: Annotated[
            bool,
            typer.Option(
                "--dashboard",
                help="On a lake: serve the dashboard and the read API too, over the tables "
                "the scheduled jobs wrote; this process then holds the state file, and "
                "commands run beside it are carried out in it (one per shop).",
            ),
        ] = False,
    ) -> None:
        """Start the HTTP server: collector (/v1/...), read API (/api/...) and dashboard.

        Example: klantreis keys create --name shop && klantreis serve --port 8000

        On a lake a server only collects; one server per shop, started with --dashboard, also
        serves the dashboard and the read API (docs/scale-out.md).
        """
        import os

        import uvicorn

        from klantreis.config import StoreSettings, load_settings
        from klantreis.present.api.app import create_app, open_home
        from klantreis.present.api.routine import RoutineSettings
        from klantreis.present.api.server import server_config
        from klantreis.present.api.settings import CollectorSettings
        from klantreis.present.web.settings import WebSettings
        from klantreis.present.web.throttle import trusted_proxies

        settings = load_settings(store)
        # Every section the server reads, checked before anything starts: a bad value is one
        # line naming the file, the section and the key.
        settings.section(CollectorSettings)
        settings.section(RoutineSettings)
        proxies = trusted_proxies(settings.section(WebSettings)) or [
            p for p in os.environ.get("FORWARDED_ALLOW_IPS", "").split(",") if p.strip()
        ]
        # Open (and close) the store once up front so a locked or unreadable store is a clear
        # one-line error here rather than a traceback from inside the server's start-up. A
        # lake's collector opens none: its write keys are checked here.
        lake = settings.section(StoreSettings).lake
        home = open_home(settings, lake, dashboard=dashboard)
        if home is not None:
            home.close()
        where = f"events into the lake {lake}" if lake is not None else str(settings.store)
        if lake is not None and dashboard:
            where += f" and its dashboard (state {settings.store})"
        err_console.print(f"klantreis serving {where} on http://{host}:{port}", highlight=False)
        app = create_app(settings, dashboard=dashboard)
        # The routine's and the collector's own messages go where uvicorn's go.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        package_log = logging.getLogger("klantreis")
        package_log.addHandler(handler)
        package_log.setLevel(logging.INFO)
        if workers > 1:
            from klantreis.present.api.app import advertise
            from klantreis.present.api.workers import serve_with_workers

            serve_with_workers(
                app,
                settings,
                count=workers,
                host=host,
                port=port,
                access_log=access_log,
                forwarded_allow_ips=",".join(proxies),
                advertise=advertise,
            )
            return
        # With the guards against slow and greedy clients (present/api/server.py).
        server = uvicorn.Server(
            server_config(
                app,
                settings,
                host=host,
                port=port,
                access_log=access_log,
                log_level="info",
                proxy_headers=bool(proxies),
                forwarded_allow_ips=",".join(proxies) or None,
            )
        )
        threading.Thread(target=_advertise_when_listening, args=(server, app), daemon=True).start()
        server.run()


def _advertise_when_listening(server: Any, app: Any) -> None:
    """Write the file beside the store that lets CLI commands run here, once we listen."""
    from klantreis.present.api.app import advertise

    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    for listener in server.servers:
        for sock in listener.sockets or ():
            host, port = sock.getsockname()[:2]
            advertise(app, host, port)
            return
