"""The Spark engine's declared capabilities, and its session: created lazily (pyspark is an
optional extra, imported only when an engine opens) and shared per process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from klantreis.store.engines.base import Capabilities, EngineFactory
from klantreis.store.engines.spark.configuration import KNOWN, SparkConfiguration

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store
    from klantreis.store.engines.base import Engine

CAPABILITIES = Capabilities(name="spark", dialect="spark", writable=False)

_lock = threading.Lock()
_sessions: dict[tuple[Any, ...], Any] = {}


JVM_WARNINGS_TO_STDERR = "-XX:+DisplayVMOutputToStderr -Xlog:disable -Xlog:all=warning:stderr"
"""The driver JVM runs as a child that shares this process's stdout, where its own warnings
go by default (`[warning][codecache] CodeCache is full`): into `klantreis map --json`'s
answer. They go to stderr instead, beside the command's other messages; a shop's own
`-Xlog` in `java_options` comes after, so it still wins."""


def driver_options(config: SparkConfiguration) -> str:
    """`spark.driver.extraJavaOptions`: the JVM's warnings on stderr, then the shop's own."""
    return " ".join(filter(None, (JVM_WARNINGS_TO_STDERR, config.java_options)))


def spark_session(config: SparkConfiguration) -> Any:
    """One SparkSession per configuration in this process (starting one takes seconds)."""
    key = (
        config.remote,
        config.master,
        config.shuffle_partitions,
        config.driver_memory,
        config.java_options,
        tuple(sorted(config.spark_conf.items())),
    )
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
            builder = builder.config("spark.driver.extraJavaOptions", driver_options(config))
        builder = builder.config("spark.sql.session.timeZone", "UTC").config(
            "spark.sql.shuffle.partitions", str(config.shuffle_partitions)
        )
        for name, value in config.spark_conf.items():
            builder = builder.config(name, value)
        session = builder.getOrCreate()
        if not config.remote:
            session.sparkContext.setLogLevel("ERROR")
        _sessions[key] = session
        return session


def engine_session(config: SparkConfiguration) -> Any:
    """A session of its own for one engine: the process's SparkContext (seconds to start,
    shared) with its own temporary views, so one shop's `voice` or `products` view is never
    read by another engine open in the same process. Spark Connect sessions are already one
    per client."""
    session = spark_session(config)
    return session if config.remote else session.newSession()


def open_spark(settings: Settings, store: Store) -> Engine:
    from klantreis.store.engines.spark.engine import SparkEngine

    return SparkEngine.from_settings(settings, store)


FACTORY = EngineFactory(CAPABILITIES, open_spark, KNOWN)
