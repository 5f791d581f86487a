"""DuckDB, the embedded default engine."""

from klantreis.store.engines.duckdb.engine import DuckDBEngine

__all__ = ["DuckDBEngine"]
