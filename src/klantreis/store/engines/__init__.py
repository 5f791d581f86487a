"""Engines that run klantreis queries; chosen by `[engine] name` in klantreis.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store
    from klantreis.store.engines.base import Engine


def open_engine(settings: Settings, store: Store) -> Engine:
    """The engine named in the settings; DuckDB runs on the store's own file."""
    if settings.engine == "duckdb":
        from klantreis.store.engines.duckdb.configuration import DuckDBConfiguration

        DuckDBConfiguration.from_options(settings.engine_options).apply(store.connection)
        return store.engine
    if settings.engine == "spark":
        from klantreis.store.engines.spark import SparkEngine

        return SparkEngine.from_settings(settings, store)
    raise ValueError(f"unknown engine {settings.engine!r}")
