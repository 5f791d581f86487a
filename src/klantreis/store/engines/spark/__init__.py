"""Apache Spark engine (optional extra `klantreis[spark]`), chosen by `[engine] name = "spark"`."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.store.engines.spark.engine import SparkEngine


def __getattr__(name: str) -> Any:
    """The engine class on first use: the registry reads `factory.py` alone."""
    if name == "SparkEngine":
        from klantreis.store.engines.spark.engine import SparkEngine

        return SparkEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SparkEngine"]
