"""`klantreis import olist|csv|rees46|cdnow`: exports of a shop into the store, as events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from klantreis.collect.catalogue.imports import import_catalogue
from klantreis.collect.catalogue.mapping import builtin_catalogue_mappings
from klantreis.collect.imports import ImportSummary, builtin_mappings, import_file, import_olist
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    StoreOption,
    console,
    err_console,
    friendly_errors,
    open_store,
    print_json,
)
from klantreis.present.cli.targets import import_target

imports = typer.Typer(
    name="import",
    help="Import shop exports (Olist, REES46, any CSV / JSON lines / Parquet with a mapping).",
    no_args_is_help=True,
)

FileArgument = Annotated[
    Path, typer.Argument(help="Export file (.csv, .jsonl, .parquet).", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")


@imports.command("olist")
@friendly_errors
def olist_command(
    directory: Annotated[
        Path, typer.Argument(help="Folder with the Olist CSV files as published.")
    ],
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Import the Olist e-commerce export: orders, payments, shipping, delivery, reviews.

    Example: klantreis import olist data/olist --store shop.duckdb
    """
    with import_target(store) as handle, _progress() as advance:
        summary = import_olist(handle, directory, progress=advance)
    _report(summary, json)


@imports.command("csv")
@friendly_errors
def csv_command(
    file: FileArgument,
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            "-m",
            help=f"Mapping YAML file, or a built-in mapping ({', '.join(builtin_mappings())}).",
            show_default=False,
        ),
    ],
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Import any CSV / JSON lines / Parquet export with a column mapping (docs/mappings.md).

    Example: klantreis import csv orders.csv --mapping docs/mappings/orders.yaml
    """
    with import_target(store) as handle, _progress() as advance:
        summary = import_file(handle, file, mapping, progress=advance)
    _report(summary, json)


@imports.command("products")
@friendly_errors
def products_command(
    file: FileArgument,
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            "-m",
            help="Catalogue mapping YAML file, or a built-in one "
            f"({', '.join(builtin_catalogue_mappings())}).",
            show_default=False,
        ),
    ],
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Import a product catalogue export (photos, description, specifications per product).

    Example: klantreis import products products_export.csv --mapping shopify
    """
    with open_store(store, create=True) as handle, _progress() as advance:
        summary = import_catalogue(handle, file, mapping, progress=advance)
    _report(summary, json)


@imports.command("cdnow")
@friendly_errors
def cdnow_command(file: FileArgument, store: StoreOption = None, json: JsonOption = False) -> None:
    """Import the CDNOW purchase log (CDNOW_master.txt or CDNOW_sample.txt) as orders.

    Example: klantreis import cdnow CDNOW_sample.txt --store cdnow.duckdb
    """
    from klantreis.collect.imports.cdnow import import_cdnow

    with open_store(store, create=True) as handle, _progress() as advance:
        summary = import_cdnow(handle, file, progress=advance)
    _report(summary, json)


@imports.command("rees46")
@friendly_errors
def rees46_command(file: FileArgument, store: StoreOption = None, json: JsonOption = False) -> None:
    """Import a REES46 event log (view / cart / remove_from_cart / purchase).

    Example: klantreis import rees46 2019-Oct.csv
    """
    with import_target(store) as handle, _progress() as advance:
        summary = import_file(handle, file, "rees46", progress=advance)
    _report(summary, json)


@contextmanager
def _progress() -> Iterator[Callable[[int, str], None]]:
    """Rows processed so far, on stderr so that `--json` output stays clean."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<40}"),
        TextColumn("{task.completed:>12,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task("importing", total=None)

        def advance(rows: int, what: str) -> None:
            progress.update(task, advance=rows, description=what)

        yield advance


def _report(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.to_dict())
    else:
        console.print(_summary_table(summary))
    if not summary.ok:
        raise CliError(f"nothing could be read from {', '.join(summary.files)}", 1)


def _summary_table(summary: ImportSummary) -> Table:
    table = Table(title=f"{escape(summary.source)} in {summary.seconds:.1f} s", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("rows read", f"{summary.rows_read:,}")
    if summary.events or not summary.products:
        table.add_row("events made", f"{summary.events:,}")
        table.add_row("[green]events stored[/]", f"{summary.events_stored:,}")
        table.add_row("duplicates skipped", f"{summary.duplicates:,}")
    if summary.products:
        table.add_row("products stored", f"{summary.products:,}")
    style = "red" if summary.quarantined else "default"
    table.add_row(f"[{style}]quarantined[/]", f"{summary.quarantined:,}")
    for name, count in sorted(summary.events_by_name.items()):
        table.add_row(f"  {escape(name)}", f"{count:,}")
    for reason, count in summary.quarantined_by_reason.most_common(5):
        table.add_row(f"  [red]{escape(reason)}[/]", f"{count:,}")
    return table
