"""`klantreis lake compact`: merge the small files collectors write into one per day."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from klantreis.present.cli.options import CliError, JsonOption, console, friendly_errors, print_json


def lake_folder(path: Path | None) -> Path:
    """The lake named on the command line, else `[store] path` of a `kind = "lake"` store."""
    from klantreis.config import StoreSettings, load_settings

    if path is not None:
        folder = path
    else:
        folder_or_none = load_settings().section(StoreSettings).lake
        if folder_or_none is None:
            raise CliError('no lake: give its folder, or set [store] kind = "lake" and path', 2)
        folder = folder_or_none
    if not folder.is_dir():
        raise CliError(f"lake {folder} is not a folder", 2)
    return folder


def register(app: typer.Typer) -> None:
    lake = typer.Typer(help="The lake of Parquet files that collectors write events into.")
    app.add_typer(lake, name="lake")

    @lake.command("compact")
    @friendly_errors
    def compact_command(
        path: Annotated[
            Path | None, typer.Argument(help="The lake folder (default: [store] path).")
        ] = None,
        grace: Annotated[
            float,
            typer.Option(
                help="Minutes a replaced file stays for readers that listed it before.", min=0
            ),
        ] = 10.0,
        as_json: JsonOption = False,
    ) -> None:
        """Merge each day's files into one and drop repeated message ids (the first received
        is kept). Safe beside running collectors and readers; run it on a schedule.

        Example: klantreis lake compact lake/
        """
        from klantreis.store.lake import Lake

        summary = Lake(lake_folder(path)).compact(grace_seconds=grace * 60)
        if as_json:
            print_json(asdict(summary))
            return
        console.print(
            f"{len(summary.days)} days merged from {summary.files_merged:,} files: "
            f"{summary.events_kept:,} events kept, {summary.repeats_dropped:,} repeats dropped; "
            f"{summary.files_removed:,} replaced files removed"
        )
