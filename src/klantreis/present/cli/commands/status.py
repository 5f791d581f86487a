"""`klantreis status`: what the server's routine did last (model, voice, cases, alerts, ...)."""

from __future__ import annotations

import typer
from rich.table import Table

import klantreis
from klantreis.present.api.routine import job_rows
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command("status")
    @friendly_errors
    def status(store: StoreOption = None, as_json: JsonOption = False) -> None:
        """The jobs `klantreis serve` runs by itself: last run, duration, result, error.

        Example: klantreis status --json
        """
        with klantreis.open(store) as kr:
            rows = job_rows(kr)
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print("no job has run yet (the routine runs inside `klantreis serve`)")
            return
        table = Table("job", "status", "last run", "took", "result", "runs", "failures")
        for row in rows:
            took = row["duration_seconds"]
            table.add_row(
                row["name"],
                row["status"],
                str(row["last_started"] or "–")[:19],
                "–" if took is None else f"{took:.1f} s",
                row["error"] if row["status"] == "failed" else (row["result"] or ""),
                str(row["runs"]),
                str(row["failures"]),
            )
        console.print(table)
