"""The Python API: open a store, run any analysis, get Arrow / pandas / polars.

    import klantreis
    kr = klantreis.open("klantreis.duckdb")
    kr.journey_map().to_pandas()

Analyses register themselves in `klantreis.measure.registry`; each becomes a method here with
the same name as its CLI command and HTTP route.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from klantreis.config import Settings, load_settings
from klantreis.measure.result import Result
from klantreis.store import Store
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query


class Klantreis:
    """One open store and the engine that runs queries over it."""

    def __init__(
        self,
        settings: Settings,
        *,
        read_only: bool = False,
        store: Store | None = None,
        explicit_store: bool = True,
    ) -> None:
        from klantreis.store.sharing import borrowed

        self.settings = settings
        if store is None:
            # Inside `klantreis serve` (a forwarded CLI command, a notebook beside the server)
            # the file is already open in this process: use that store, never open it twice.
            store = borrowed(settings.store, explicit=explicit_store)
            self._owns_store = store is None
        else:
            self._owns_store = False
        self.store = store if store is not None else Store(settings.store, read_only=read_only)
        self._engine: Engine | None = None

    @classmethod
    def over(cls, store: Store, settings: Settings) -> Klantreis:
        """The API over a store someone else opened and will close (the HTTP server)."""
        return cls(settings, store=store)

    @property
    def engine(self) -> Engine:
        """The configured engine (DuckDB on the store itself by default)."""
        if self._engine is None:
            from klantreis.store.engines import open_engine

            self._engine = open_engine(self.settings, self.store)
        return self._engine

    def sql(self, query: str, **params: Any) -> Result:
        """Run a query (DuckDB dialect, `:name` placeholders) on the configured engine."""
        return Result(self.engine.fetch(Query(query, **params)))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from klantreis.measure.registry import get_analysis

        analysis = get_analysis(name)
        if analysis is None:
            raise AttributeError(name)
        return lambda *args, **kwargs: analysis(self, *args, **kwargs)

    def close(self) -> None:
        if self._engine is not None and self._engine is not self.store.engine:
            self._engine.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Klantreis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(store: str | Path | None = None, *, read_only: bool = False) -> Klantreis:
    """Open a store (default from `KLANTREIS_STORE`, klantreis.toml or ./klantreis.duckdb)."""
    return Klantreis(load_settings(store), read_only=read_only, explicit_store=store is not None)
