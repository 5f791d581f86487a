"""The store: append-only events, quarantine, and the tables derived from them.

The names load on first use: reading the settings lists the engines (`store.engines`), which
must not import DuckDB and Arrow for a command that opens no store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.store.store import AppendResult, Store, StoreLockedError

__all__ = ["AppendResult", "Store", "StoreLockedError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from klantreis.store import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
