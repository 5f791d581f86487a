"""`klantreis engine export-parquet DIR`: the store's tables as Parquet, for the Spark engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import klantreis
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)

DEFAULT_TABLES = ("events", "journey_events", "persons", "sessions", "journeys", "phase_map")
OPTIONAL_TABLES = ("person_personas", "products")


def export_parquet(kr: klantreis.api.Klantreis, folder: Path, tables: list[str]) -> dict[str, int]:
    """Write each table to `folder/<table>.parquet`; returns rows per table."""
    from klantreis.model import ensure_built

    if kr.settings.engine != "duckdb":
        raise CliError("export-parquet reads the DuckDB store; run it with [engine] name = duckdb")
    ensure_built(kr)
    folder.mkdir(parents=True, exist_ok=True)
    con = kr.store.connection
    written = {}
    for name in tables:
        if not kr.store.engine.has_table(name):
            if name in OPTIONAL_TABLES:
                continue
            raise CliError(f"table {name!r} does not exist in {kr.settings.store}", 2)
        relation = con.table(name)
        relation.write_parquet(str(folder / f"{name}.parquet"))
        written[name] = int(relation.count("*").fetchall()[0][0])
    return written


def register(app: typer.Typer) -> None:
    engine = typer.Typer(help="The query engine: export the store for Spark.")
    app.add_typer(engine, name="engine")

    @engine.command("export-parquet")
    @friendly_errors
    def export_command(
        folder: Annotated[Path, typer.Argument(help="Folder to write <table>.parquet files to.")],
        table: Annotated[
            list[str] | None, typer.Option("--table", help="Only this table (repeatable).")
        ] = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write events and the model's tables as Parquet; point `[engine] events_path` at it.

        Example: klantreis engine export-parquet lake/
        """
        tables = table or [*DEFAULT_TABLES, *OPTIONAL_TABLES]
        with open_klantreis(store) as kr:
            written = export_parquet(kr, folder, tables)
        if as_json:
            print_json({"folder": str(folder), "tables": written})
            return
        for name, rows in written.items():
            console.print(f"{name}: {rows:,} rows → {folder / (name + '.parquet')}")
