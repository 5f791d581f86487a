"""The `klantreis` command.

Each module in `klantreis.present.cli.commands` registers its own commands on the app through
`register(app)`, so a capability adds its commands without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from klantreis.present.cli import commands

app = typer.Typer(
    name="klantreis",
    help="Customer journeys and customer experience for webshops, from the shop's own data.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    """The console script: a command that finds the store held by `klantreis serve` runs there."""
    import sys

    from klantreis.store import StoreLockedError

    try:
        app()
    except StoreLockedError as exc:
        from klantreis.present.cli.forward import forward
        from klantreis.present.cli.options import fail

        code = forward(sys.argv[1:], exc)
        if code is None:
            fail(str(exc), 2)  # prints the one-line error
            code = 2
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
