"""`klantreis import <preset> FILE`: one command per built-in mapping (Shopify, Zendesk, ...).

The presets are the YAML files of `collect/imports/mappings/`; a new file there is a new
command, with its `description` as help. Names that have a command of their own (`olist`,
`csv`, `rees46`, or any another module declares) keep it.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from klantreis.collect.imports import builtin_mappings, import_file, load_mapping
from klantreis.present.cli.commands.imports import FileArgument, _progress, _report, imports
from klantreis.present.cli.options import JsonOption, StoreOption, friendly_errors
from klantreis.present.cli.targets import import_target

OWN_COMMANDS = ("olist", "csv", "rees46")


def register(app: typer.Typer) -> None:
    """Add the presets to the `import` group (which `imports.register` puts on the app)."""
    del app
    taken = {command.name for command in imports.registered_commands} | set(OWN_COMMANDS)
    for name in builtin_mappings():
        if name not in taken:
            imports.command(name)(friendly_errors(_preset_command(name)))


def _preset_command(name: str) -> Callable[..., None]:
    spec, _origin = load_mapping(name)

    def command(file: FileArgument, store: StoreOption = None, json: JsonOption = False) -> None:
        with import_target(store) as handle, _progress() as advance:
            summary = import_file(handle, file, name, progress=advance)
        _report(summary, json)

    command.__doc__ = (
        f"Import {spec.description or name} with the built-in `{name}` mapping "
        f"(docs/mappings.md).\n\nExample: klantreis import {name} FILE --store shop.duckdb"
    )
    command.__name__ = f"{name.replace('-', '_')}_command"
    return command
