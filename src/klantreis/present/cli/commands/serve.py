"""`klantreis serve`: the collector, the read API and the dashboard in one process.

The server owns the store file while it runs (DuckDB allows one writing process), so other
`klantreis` commands on the same store wait until it stops; use its HTTP API meanwhile.
"""

from __future__ import annotations

from typing import Annotated

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
    ) -> None:
        """Start the HTTP server: collector (/v1/...), read API (/api/...) and dashboard.

        Example: klantreis keys create --name shop && klantreis serve --port 8000
        """
        from klantreis.config import load_settings
        from klantreis.present.api.app import create_app
        from klantreis.present.api.server import run
        from klantreis.store import Store

        settings = load_settings(store)
        # Open (and close) the store once up front so a locked or unreadable store is a clear
        # one-line error here rather than a traceback from inside the server's start-up.
        Store(settings.store).close()
        err_console.print(
            f"klantreis serving {settings.store} on http://{host}:{port}", highlight=False
        )
        run(
            create_app(settings),
            settings,
            host=host,
            port=port,
            access_log=access_log,
            log_level="info",
        )
