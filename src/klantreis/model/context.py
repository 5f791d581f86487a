"""What a model build or an analysis needs of an open store, and nothing more.

The Python API (`klantreis.Klantreis`) is one such context; model, measure and act depend on
this protocol instead of the facade, so the facade can import them without a cycle. An analysis
may call another through the context (`kr.funnel(...)`): the facade's typed method of that
analysis, validated by its query model.
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

    def run(self, name: str, query: Any) -> Any:
        """Run analysis `name` on a query built beforehand."""
        ...

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Another registered analysis, by name (the facade's typed method)."""
        ...
