"""DuckDB, the embedded default engine."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.store.engines.duckdb.engine import DuckDBEngine


def __getattr__(name: str) -> Any:
    """The engine class on first use: the registry reads `factory.py` alone."""
    if name == "DuckDBEngine":
        from klantreis.store.engines.duckdb.engine import DuckDBEngine

        return DuckDBEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DuckDBEngine"]
