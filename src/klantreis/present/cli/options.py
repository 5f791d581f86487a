"""Options and error handling shared by every CLI command."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console

from klantreis.config import ConfigError, load_settings
from klantreis.store import Store, StoreLockedError
from klantreis.store.sharing import borrowed

PIPE_WIDTH = 160
"""Width for output that goes to a file or CI log. Rich falls back to 80 columns when stdout is
not a terminal (unless COLUMNS is set), which folds table headers letter by letter."""


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    piped = not (hasattr(stream, "isatty") and stream.isatty())
    width = PIPE_WIDTH if piped and not os.environ.get("COLUMNS") else None
    return Console(stderr=stderr, width=width)


console = _console()
err_console = _console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="KLANTREIS_STORE",
        help="Store file (default ./klantreis.duckdb, or [store] path in klantreis.toml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# The cut every analysis shares: a period and a persona (measure/filters.py `Cut`).
FromOption = Annotated[
    str | None, typer.Option("--from", help="Only events from this date (ISO).", show_default=False)
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Only events before this date (ISO).", show_default=False)
]
PersonaOption = Annotated[
    str | None, typer.Option("--persona", help="Only persons of this persona.", show_default=False)
]

F = TypeVar("F", bound=Callable[..., Any])


class CliError(Exception):
    """An error the user can fix; printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(
        f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True
    )
    return typer.Exit(code)


def friendly_errors(func: F) -> F:
    """Turn expected failures into a one-line message and a non-zero exit, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CliError as exc:
            raise fail(str(exc), exc.code) from None
        except StoreLockedError:
            raise  # `main()` forwards the command to the server that holds the store
        except (ConfigError, FileNotFoundError) as exc:
            raise fail(str(exc), 2) from None
        except ValueError as exc:
            if type(exc).__module__.startswith("klantreis"):
                raise fail(str(exc), 2) from None
            raise

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_store(store: Path | None, *, read_only: bool = False) -> Iterator[Store]:
    """The store named by --store / KLANTREIS_STORE / klantreis.toml / default."""
    settings = load_settings(store)
    shared = borrowed(settings.store, explicit=store is not None)
    if shared is not None:  # a command forwarded to `klantreis serve`: its open store
        yield shared
        return
    if read_only and not settings.store.exists():
        raise CliError(
            f"store {settings.store} does not exist; "
            "run `klantreis demo` or `klantreis import` first",
            2,
        )
    handle = Store(settings.store, read_only=read_only)
    try:
        yield handle
    finally:
        handle.close()


def print_json(value: Any) -> None:
    """JSON on stdout, nothing else (scripts parse it)."""
    sys.stdout.write(
        orjson.dumps(
            value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
        + "\n"
    )
