"""Apache Spark engine (optional extra `klantreis[spark]`), chosen by `[engine] name = "spark"`."""

from klantreis.store.engines.spark.engine import SparkEngine

__all__ = ["SparkEngine"]
