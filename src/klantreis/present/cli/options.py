"""Options and error handling shared by every CLI command."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape

import klantreis
from klantreis.config import load_settings
from klantreis.errors import KlantreisError

if TYPE_CHECKING:
    from klantreis.store import Store

# The store (DuckDB, Arrow, SQLGlot) is imported where a command opens it, not here: every
# command module imports these options, and `klantreis --help` needs none of it.

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
# The cut, for commands that are not analyses; an analysis's command takes it from its query
# model (`CutQuery`, through `present/cli/queries.query_command`).
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
    # Escaped: a message names settings as `[collector] key`, which is not markup.
    err_console.print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True
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
        # A StoreLockedError (a RuntimeError) passes: `main()` forwards the command to the
        # server that holds the store.
        except (KlantreisError, FileNotFoundError) as exc:
            raise fail(str(exc), 2) from None
        except ValueError as exc:
            # Validation inside settings parsers (pydantic models, mappings) that has not
            # become a KlantreisError yet; still one line, not a traceback.
            if type(exc).__module__.startswith(("klantreis", "pydantic")):
                raise fail(str(exc), 2) from None
            raise

    return wrapper  # type: ignore[return-value]


def existing_store(store: Path | None) -> Path:
    """The store file named by --store / KLANTREIS_STORE / klantreis.toml / default.

    A missing file is an error (exit 2), not a new empty store: a mistyped --store would
    otherwise answer with zeros. Only commands that create stores (`demo`, `import`, `serve`,
    `keys create`, `users create`) pass `create=True` to `open_store`. A store lent by
    `klantreis serve` (a forwarded command) exists by definition.
    """
    from klantreis.store.sharing import borrowed

    path = load_settings(store).store
    if borrowed(path, explicit=store is not None) is None and not path.exists():
        raise CliError(
            f"store {path} does not exist; run `klantreis demo` or `klantreis import` first",
            2,
        )
    return path


def open_klantreis(store: Path | None) -> klantreis.Klantreis:
    """The Python API over the existing store the options name (see `existing_store`)."""
    existing_store(store)
    return klantreis.open(store)


@contextmanager
def open_store(
    store: Path | None, *, read_only: bool = False, create: bool = False
) -> Iterator[Store]:
    """The store named by the options; with `create`, made when it does not exist yet."""
    from klantreis.store import Store
    from klantreis.store.sharing import borrowed

    settings = load_settings(store)
    shared = borrowed(settings.store, explicit=store is not None)
    if shared is not None:  # a command forwarded to `klantreis serve`: its open store
        yield shared
        return
    path = settings.store if create else existing_store(store)
    handle = Store.configured(settings, path, read_only=read_only)
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
