"""`klantreis export PERSON` and `klantreis erase PERSON`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from klantreis.config import load_settings
from klantreis.present.cli.options import (
    CliError,
    StoreOption,
    console,
    friendly_errors,
    open_store,
    print_json,
)
from klantreis.privacy import erase_persons, export_person, lake_places


def register(app: typer.Typer) -> None:
    @app.command("export")
    @friendly_errors
    def export_command(
        person: Annotated[str, typer.Argument(help="Any id of the person (user, anonymous).")],
        store: StoreOption = None,
        out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    ) -> None:
        """Write everything stored about one person as JSON.

        Example: klantreis export user-42 --out user-42.json
        """
        with open_store(store, read_only=False) as handle:
            data = export_person(handle, person, load_settings(store))
        if not data["tables"]:
            raise CliError(f"nothing is stored about {person!r}", 1)
        if out is None:
            print_json(data)
        else:
            import orjson

            out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str))
            console.print(f"wrote {sum(len(v) for v in data['tables'].values())} rows to {out}")

    @app.command("erase")
    @friendly_errors
    def erase_command(
        persons: Annotated[
            list[str], typer.Argument(help="Any id of each person (user, anonymous).")
        ],
        store: StoreOption = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Remove a person from every table (quarantine included) and from the file itself.

        The rows are deleted, the person is taken out of lists that name them (persona
        examples), a voice model trained on their reviews is dropped, and the store file is
        rewritten so no deleted row stays readable in it (docs/privacy.md). Beside a running
        `klantreis serve` it is carried out inside the server, whose collector waits for it.

        Several persons in one call share one rewrite of the file. The model is brought up
        to date first, so ids stitched to the person by newer events are reached too.

        On a lake (`[store] kind = "lake"`) each Parquet file that holds one of their rows is
        written again without it (events, quarantine, the derived tables Spark wrote under
        `[engine] tables_path`), and the state file as above (docs/privacy.md).

        Example: klantreis erase user-42
        """
        started = time.perf_counter()
        settings = load_settings(store)
        with open_store(store) as handle:
            removed = erase_persons(handle, persons, settings)
        seconds = round(time.perf_counter() - started, 1)
        if as_json:
            print_json({"persons": persons, "removed": removed, "seconds": seconds})
            return
        total = sum(removed.values())
        who = ", ".join(repr(p) for p in persons)
        if total == 0:
            console.print(f"nothing stored about {who}")
            return
        parts = ", ".join(f"{n} from {t}" for t, n in removed.items() if n)
        console.print(f"erased {total} rows about {who}: {parts}")
        if lake_places(settings) is not None:
            console.print(
                f"the lake's files that held them and the state file were rewritten without "
                f"them ({seconds} s)"
            )
            return
        console.print(f"the store file was rewritten without them ({seconds} s)")
