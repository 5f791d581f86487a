"""The DuckDB engine's declared capabilities, and how it opens: on the store's own connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from klantreis.store.engines.base import Capabilities, EngineFactory
from klantreis.store.engines.duckdb.configuration import KNOWN, DuckDBConfiguration

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store
    from klantreis.store.engines.base import Engine

CAPABILITIES = Capabilities(name="duckdb", dialect="duckdb", writable=True, row_ids=True)


def open_duckdb(settings: Settings, store: Store) -> Engine:
    DuckDBConfiguration.from_options(settings.engine_options).apply(store.connection)
    return store.engine


FACTORY = EngineFactory(CAPABILITIES, open_duckdb, KNOWN)
