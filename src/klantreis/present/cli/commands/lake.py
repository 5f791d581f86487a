"""`klantreis lake compact`: merge the small files collectors write into one per day;
`klantreis lake load`: a DuckDB store's events into the lake (a shop moving to a lake)."""

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

    @lake.command("load")
    @friendly_errors
    def load_command(
        source: Annotated[
            Path | None,
            typer.Argument(
                help="The DuckDB store whose events go into the lake (default: [store] state, "
                "the file that was the shop's store)."
            ),
        ] = None,
        path: Annotated[
            Path | None, typer.Option("--lake", help="The lake folder (default: [store] path).")
        ] = None,
        drop: Annotated[
            bool,
            typer.Option(
                "--drop",
                help="Then delete the events, quarantine and catalogue from the store and "
                "rewrite it, so they are kept in the lake only.",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Write a DuckDB store's events, quarantine and catalogue into the lake, and publish
        its write keys for the lake's collectors: the one step of a shop moving from its
        DuckDB file to a lake (the file stays as `[store] state`, with keys, users and
        settings). Running it again writes the events again; readers and `lake compact`
        keep each message id once.

        Without `--drop` the events stay in the store too (a copy nothing reads on the lake;
        `klantreis erase` reaches them there as well). With `--drop` they are deleted from it
        once they are in the lake, and the file is rewritten so they cannot be read in it.

        Example: klantreis lake load klantreis.duckdb --lake lake/ --drop
        """
        from klantreis.collect.keys import publish_keys
        from klantreis.config import StoreSettings, load_settings
        from klantreis.present.cli.targets import drop_moved, into_lake
        from klantreis.store import Store

        settings = load_settings()
        folder = path or settings.section(StoreSettings).lake
        if folder is None:
            raise CliError('no lake: give --lake, or set [store] kind = "lake" and path', 2)
        store_file = source or settings.store
        if not store_file.is_file():
            raise CliError(f"store {store_file} does not exist", 2)
        folder.mkdir(parents=True, exist_ok=True)
        with Store.configured(settings, store_file, read_only=not drop) as handle:
            moved = into_lake(handle, folder)
            publish_keys(handle, folder)
            if drop:
                drop_moved(handle)
        if as_json:
            print_json({"store": str(store_file), "lake": str(folder), **moved, "dropped": drop})
            return
        console.print(
            f"{moved['events']:,} events, {moved['quarantine']:,} quarantined rows and "
            f"{moved['products']:,} products of {store_file} written into {folder}",
            highlight=False,
            soft_wrap=True,  # a path is never folded, however long: it is copied or grepped
        )
        if drop:
            console.print(
                f"and deleted from {store_file}, which was rewritten without them", soft_wrap=True
            )
        else:
            console.print(
                f"{store_file} still holds them (nothing reads them there on a lake): "
                "`klantreis lake load --drop` deletes them from it",
                highlight=False,
                soft_wrap=True,
            )
