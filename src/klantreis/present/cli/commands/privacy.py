"""`klantreis export PERSON` and `klantreis erase PERSON`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klantreis.present.cli.options import (
    CliError,
    StoreOption,
    console,
    friendly_errors,
    open_store,
    print_json,
)
from klantreis.privacy import erase_person, export_person


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
            data = export_person(handle, person)
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
        person: Annotated[str, typer.Argument(help="Any id of the person (user, anonymous).")],
        store: StoreOption = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Remove a person from every table (quarantine included) and say how many rows went.

        Example: klantreis erase user-42
        """
        with open_store(store) as handle:
            removed = erase_person(handle, person)
        if as_json:
            print_json({"person": person, "removed": removed})
            return
        total = sum(removed.values())
        if total == 0:
            console.print(f"nothing stored about {person!r}")
            return
        parts = ", ".join(f"{n} from {t}" for t, n in removed.items() if n)
        console.print(f"erased {total} rows about {person!r}: {parts}")
