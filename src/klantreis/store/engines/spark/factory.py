"""The Spark session: created lazily (pyspark is an optional extra) and shared per process."""

from __future__ import annotations

import threading
from typing import Any

from klantreis.store.engines.spark.configuration import SparkConfiguration

_lock = threading.Lock()
_sessions: dict[tuple[Any, ...], Any] = {}


def spark_session(config: SparkConfiguration) -> Any:
    """One SparkSession per configuration in this process (starting one takes seconds)."""
    key = (config.remote, config.master, config.shuffle_partitions, config.driver_memory)
    with _lock:
        session = _sessions.get(key)
        if session is not None:
            return session
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Spark engine needs pyspark: pip install 'klantreis[spark]'"
            ) from exc
        builder = SparkSession.builder.appName(config.app_name)
        if config.remote:
            builder = builder.remote(config.remote)
        else:
            builder = (
                builder.master(config.master)
                .config("spark.driver.memory", config.driver_memory)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            )
        builder = builder.config("spark.sql.session.timeZone", "UTC").config(
            "spark.sql.shuffle.partitions", str(config.shuffle_partitions)
        )
        session = builder.getOrCreate()
        if not config.remote:
            session.sparkContext.setLogLevel("ERROR")
        _sessions[key] = session
        return session
