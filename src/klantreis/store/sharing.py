"""Lending the one open store of a process to the code that would otherwise open it again.

DuckDB lets one process write a store file. When `klantreis serve` holds the file, a CLI command
run beside it is carried out inside the server (`present/cli/forward.py`); there the command's
own `open_store()` / `klantreis.open()` must get the server's open `Store`, not open the file a
second time. The server lends its store here; openers ask for it by path.

A command forwarded to the server runs in a context (`serving`) that also names the store the
client meant, so a command without `--store` reaches the served file whatever the server's own
working directory or environment says.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klantreis.store.store import Store

_lent: dict[Path, Store] = {}
_lock = threading.Lock()
_serving: contextvars.ContextVar[Store | None] = contextvars.ContextVar(
    "klantreis_serving_store", default=None
)


def _key(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


@contextmanager
def lend(store: Store) -> Iterator[Store]:
    """Make `store` the answer to `borrowed(store.path)` in this process while the block runs."""
    key = _key(store.path)
    with _lock:
        _lent[key] = store
    try:
        yield store
    finally:
        with _lock:
            if _lent.get(key) is store:
                del _lent[key]


def borrowed(path: str | Path | None, *, explicit: bool = True) -> Store | None:
    """The lent store for `path`, or the served store of a forwarded command.

    `explicit` says whether the caller named the path (`--store`); a path that only came from
    defaults yields to the store the forwarded command was sent for.
    """
    serving = _serving.get()
    if serving is not None and not explicit:
        return serving
    if path is None:
        return serving
    with _lock:
        return _lent.get(_key(path))


@contextmanager
def serving(store: Store) -> Iterator[None]:
    """Run a forwarded command: openers without an explicit path get `store`."""
    token = _serving.set(store)
    try:
        yield
    finally:
        _serving.reset(token)
