"""What a model build or an analysis needs of an open store, and nothing more.

The Python API (`klantreis.Klantreis`) is one such context; model, measure and act depend on
this protocol instead of the facade, so the facade can import them without a cycle. An analysis
may call another through the context (`kr.funnel(...)`): the facade finds it in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from klantreis.config import Settings
from klantreis.store import Store
from klantreis.store.engines.base import Engine


class Context(Protocol):
    settings: Settings
    store: Store

    @property
    def engine(self) -> Engine:
        """The configured engine (DuckDB on the store itself by default)."""
        ...

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Another registered analysis, by name."""
        ...
