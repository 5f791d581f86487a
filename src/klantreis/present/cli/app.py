"""The `klantreis` command.

Each module in `klantreis.present.cli.commands` registers its own commands on the app through
`register(app)`, so a capability adds its commands without touching this file.

The console script loads only the module of the command it runs (`COMMANDS`), so
`klantreis voice score` does not first import the journey map, the dashboard and every
analysis; `klantreis --help` (or a name it does not know) loads them all to list them.
`tests/test_cli_startup.py` checks that `COMMANDS` names what every module registers.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
from typing import Any

import typer

from klantreis.present.cli import commands

COMMANDS: dict[str, tuple[str, ...]] = {
    "funnel": ("analytics",),
    "paths": ("analytics",),
    "retention": ("analytics",),
    "demo": ("demo",),
    "engine": ("engine",),
    "expectations": ("expectations",),
    "at-risk": ("expectations",),
    "cases": ("cases",),
    "recovery": ("cases",),
    "alerts": ("expectations",),
    "import": ("imports", "import_presets"),
    "map": ("journey",),
    "stats": ("journey",),
    "model": ("journey",),
    "keys": ("keys",),
    "lake": ("lake",),
    "opportunities": ("opportunities",),
    "personas": ("personas",),
    "export": ("privacy",),
    "erase": ("privacy",),
    "products": ("products",),
    "recommend": ("recommend",),
    "returns": ("returns",),
    "search": ("search",),
    "serve": ("serve",),
    "sources": ("sources",),
    "status": ("status",),
    "surveys": ("surveys",),
    "users": ("users",),
    "value": ("value",),
    "voice": ("voice", "reputation"),
}
"""Command (or command group) name → the modules in `commands` that register it (a module may
add commands to another's group: `import_presets` to `import`, `reputation` to `voice`)."""


def build(modules: list[str] | None = None) -> typer.Typer:
    """The app with the commands of these modules (of all, when None)."""
    app = typer.Typer(
        name="klantreis",
        help="Customer journeys and customer experience for webshops, from the shop's own data.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
    )
    # A group even with one command registered: `klantreis map ...` keeps its name.
    app.callback()(_group)
    names = modules
    if names is None:
        found = pkgutil.iter_modules(commands.__path__)
        names = sorted(info.name for info in found)
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    return app


def _group() -> None:
    """Customer journeys and customer experience for webshops, from the shop's own data."""


def modules_for(args: list[str]) -> list[str] | None:
    """The modules a command line needs, or None (all) for help or an unknown name."""
    first = next((a for a in args if not a.startswith("-")), None)
    modules = COMMANDS.get(first or "")
    return None if modules is None else list(modules)


@functools.cache
def _full() -> typer.Typer:
    return build()


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, for in-process callers and tests
        return _full()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The console script: a command that finds the store held by `klantreis serve` runs there."""
    try:
        build(modules_for(sys.argv[1:]))()
    except Exception as exc:  # the store is imported only when a command failed on it
        from klantreis.store import StoreLockedError

        if not isinstance(exc, StoreLockedError):
            raise
        from klantreis.present.cli.forward import forward
        from klantreis.present.cli.options import fail

        code = forward(sys.argv[1:], exc)
        if code is None:
            fail(str(exc), 2)  # prints the one-line error
            code = 2
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
