"""Spark engine: the same query trees, run on Apache Spark over Parquet tables.

Read-only towards events: they are written elsewhere (collectors into a lake, the embedded
store's `klantreis engine export-parquet`, or the shop's own pipeline). Derived tables the model
builds are checkpointed views of this session, or, with `tables_path`, Parquet in the lake
(`spark/lake.py`).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from klantreis.store.engines.base import Engine, as_query
from klantreis.store.engines.spark.configuration import SparkConfiguration
from klantreis.store.engines.spark.dialect import to_spark
from klantreis.store.engines.spark.factory import CAPABILITIES, engine_session
from klantreis.store.engines.spark.lake import (
    Shelf,
    fingerprint,
    is_day_partitioned,
    is_lake_products,
    read_events,
    read_products,
)
from klantreis.store.engines.spark.staging import staged
from klantreis.store.query import Query, read_as

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store


class SparkEngine(Engine):
    capabilities = CAPABILITIES

    def __init__(self, session: Any, config: SparkConfiguration | None = None) -> None:
        self.session = session
        self.config = config or SparkConfiguration()
        self._cached: dict[str, Any] = {}
        self._lake_events: Path | None = None
        self.shelf = Shelf(self.config.tables_path) if self.config.tables_path else None
        self._state: dict[str, Any] = self.shelf.get_state() if self.shelf else {}
        if self.config.events_path is not None:
            self.register_folder(self.config.events_path)
        if self.shelf is not None:  # the model the last build wrote, read as it is
            for name in self.shelf.names():
                if (path := self.shelf.current(name)) is not None:
                    self.register_parquet(name, path)

    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> SparkEngine:
        config = SparkConfiguration.from_options(settings.engine_options)
        return cls(engine_session(config), config)

    # -- tables ----------------------------------------------------------------------------
    def register_folder(self, folder: Path) -> list[str]:
        """Every `<table>.parquet` file or `<table>/` folder of Parquet as a view `<table>`."""
        if not folder.is_dir():
            from klantreis.config import ConfigError

            raise ConfigError(f"[engine] events_path {folder} is not a folder")
        if is_day_partitioned(folder):  # events_path is a lake's events/ folder itself
            self.register_lake_events(folder)
            return ["events"]
        names = []
        for entry in sorted(folder.iterdir()):
            if entry.name == "events" and is_day_partitioned(entry):
                self.register_lake_events(entry)
                names.append("events")
            elif entry.is_dir() and is_lake_products(entry) and any(entry.glob("*.parquet")):
                read_products(self.session, entry).createOrReplaceTempView("products")
                names.append("products")
            elif entry.suffix == ".parquet" or (entry.is_dir() and any(entry.glob("*.parquet"))):
                name = entry.name.removesuffix(".parquet")
                self.register_parquet(name, entry)
                names.append(name)
            elif entry.is_dir() and is_day_partitioned(entry):  # the lake's quarantine
                self.register_parquet(entry.name, entry)
                names.append(entry.name)
        return names

    def register_lake_events(self, folder: Path) -> None:
        """The lake's events as `events`, each message id once, computed once per engine (the
        model reads events several times; each read would sort every event again)."""
        self._lake_events = folder
        frame = checkpointed_frame(self.session, read_events(self.session, folder))
        self._drop_cached("events")
        frame.createOrReplaceTempView("events")
        self._cached["events"] = frame

    def events_fingerprint(self) -> str | None:
        """Over a lake: changes when collectors add a file or a compaction replaces some (no
        data read). None otherwise: the store's fingerprint applies."""
        return fingerprint(self._lake_events) if self._lake_events is not None else None

    def get_state(self, key: str) -> str | None:
        return self._state.get(key)

    def set_state(self, key: str, value: str) -> None:
        """Kept beside the derived tables when they are written to `tables_path`, so the next
        process knows which events and definition the stored model was built from."""
        self._state[key] = value
        if self.shelf is not None:
            self.shelf.update_state({key: value})

    def register_parquet(self, name: str, path: Path) -> None:
        self.session.read.parquet(str(path)).createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """An Arrow table as a view (tests and small lookup tables)."""
        self._drop_cached(name)
        frame = self.session.createDataFrame(table) if table.num_rows else None
        if frame is None:
            schema = _spark_schema(self.session, table.schema)
            frame = self.session.createDataFrame([], schema)
        frame.createOrReplaceTempView(name)

    # -- Engine ----------------------------------------------------------------------------
    def sql(self, query: Query | str, params: dict[str, Any] | None = None) -> str:
        return to_spark(as_query(query, params or {}).tree)

    def fetch(self, query: Query | str, /, **params: Any) -> pa.Table:
        with self._staged(read_as(as_query(query, params).tree)) as tree:
            return without_zone(self.session.sql(to_spark(tree)).toArrow())

    def execute(self, query: Query | str, /, **params: Any) -> None:
        tree = as_query(query, params).tree
        if isinstance(tree, exp.Drop):
            # A derived table here is a view of this session: Spark's DROP TABLE leaves it.
            names = [table.name for table in tree.args.get("tables") or [tree.this] if table]
            if all(name in self._cached for name in names):
                for name in names:
                    self._drop_cached(name)
                    self.session.catalog.dropTempView(name)
                return
        self.session.sql(to_spark(tree)).collect()

    def create_table_as(self, name: str, query: Query | str, /, **params: Any) -> None:
        """The query's rows, computed now, as a view whose plan is a scan of those rows.

        Not `cache()`: a cached frame keeps the plan that made it, so each derived table's plan
        held every table below it, and a plan that reads a table twice printed it twice. The
        model's chain of tables (identities, labels, journey events, persons) then grew plans
        whose text alone filled a 4 GB driver on the 2,000-person demo. A local checkpoint keeps
        the rows (memory, spilling to disk) and forgets how they were made.
        """
        with self._staged(as_query(query, params).tree) as tree:
            self._keep(name, self.session.sql(to_spark(tree)))

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        """A derived table of rows computed in Python on the driver (discovered personas,
        ranked opportunities), kept like the model's tables: in the lake with `tables_path`."""
        if table.num_rows:
            frame = self.session.createDataFrame(table)
        else:
            frame = self.session.createDataFrame([], _spark_schema(self.session, table.schema))
        self._keep(name, frame)

    def create_table_mapped(
        self,
        name: str,
        query: Query | str,
        transform: Callable[[pa.Table], pa.Table],
        schema: str,
        /,
        **params: Any,
    ) -> None:
        """A derived table made by a Python function over the query's rows, run on the
        executors in Arrow batches (`mapInArrow`: a pandas-UDF-like pass, no collect to the
        driver). `schema` is the output's Spark DDL (`"message_id STRING, score DOUBLE"`);
        `transform` must be picklable (cloudpickle ships it to the Python workers)."""

        def batches(incoming: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in incoming:
                if batch.num_rows:
                    yield from transform(pa.Table.from_batches([batch])).to_batches()

        with self._staged(as_query(query, params).tree) as tree:
            self._keep(name, self.session.sql(to_spark(tree)).mapInArrow(batches, schema))

    def _keep(self, name: str, frame: Any) -> None:
        """`frame` computed now as the view `name`, its plan a scan of the rows."""
        if self.shelf is not None and not name.startswith("_"):
            # A model table goes to the lake: other processes read it from there, and the
            # read-back frame is a scan of the files (the lineage is cut as well).
            path = self.shelf.write(name, frame)
            self._drop_cached(name)
            self.register_parquet(name, path)
            return
        frame = checkpointed_frame(self.session, frame)
        self._drop_cached(name)
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame

    @contextmanager
    def _staged(self, tree: exp.Expression) -> Iterator[exp.Expression]:
        """The query with its common table expressions that are read more than once and cost
        more than a scan computed once, as checkpointed views (lineage cut) under unique names
        for the duration of the query (`staging.py` says which and why)."""
        stages, rest = staged(tree, f"_kr_{uuid.uuid4().hex[:8]}_")
        frames = []
        try:
            for stage in stages:
                frame = checkpointed(self.session, to_spark(stage.query))
                frame.createOrReplaceTempView(stage.view)
                frames.append((stage.view, frame))
            yield rest
        finally:
            # the views and their rows: without the release the blocks stayed in the block
            # store until the driver's next garbage collection, every query's stages beside
            # the next query's work (in local mode, the driver's heap)
            for view, frame in frames:
                self.session.catalog.dropTempView(view)
                _release(frame)

    def has_table(self, name: str) -> bool:
        return bool(self.session.catalog.tableExists(name))

    def close(self) -> None:
        for name in list(self._cached):
            self._drop_cached(name)

    def _drop_cached(self, name: str) -> None:
        frame = self._cached.pop(name, None)
        if frame is not None:
            _release(frame)


_constraints_lock = threading.Lock()


def checkpointed(session: Any, sql: str) -> Any:
    """The query's rows, computed now, as a frame whose plan is a scan of them.

    Without the optimizer's constraint propagation while the checkpoint is taken: Spark carries
    the plan's constraints over to the checkpoint by mapping its output columns, and fails
    (`key not found: user_id#4`) when a constraint names a column from inside a UNION that the
    output does not have. The constraints only add IS NOT NULL filters; the rows are the same.
    """
    return checkpointed_frame(session, session.sql(sql))


def checkpointed_frame(session: Any, frame: Any) -> Any:
    """`frame` computed now and checkpointed (see `checkpointed`)."""
    key = "spark.sql.constraintPropagation.enabled"
    with _constraints_lock:
        before = session.conf.get(key, "true")
        session.conf.set(key, "false")
        try:
            return frame.localCheckpoint(eager=True)
        finally:
            session.conf.set(key, before)


def _release(frame: Any) -> None:
    """Free a checkpointed frame's blocks now rather than at the driver's next garbage
    collection (the model's work tables would otherwise pile up for the whole build). Through
    the JVM handle, which a Spark Connect frame does not have: there the server cleans up."""
    frame.unpersist()
    jdf = getattr(frame, "_jdf", None)
    if jdf is None:
        return
    with contextlib.suppress(Exception):  # best effort: a missing method only delays the cleanup
        jdf.queryExecution().analyzed().rdd().unpersist(False)


def without_zone(table: pa.Table) -> pa.Table:
    """Moments as DuckDB hands them back: UTC without a zone (Spark's Arrow says UTC, the
    session's zone). Otherwise a result's JSON said `...+00:00` on Spark only."""
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit), f.nullable)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in table.schema
    ]
    schema = pa.schema(fields)
    return table if schema.equals(table.schema) else table.cast(schema)


def _spark_schema(session: Any, schema: pa.Schema) -> Any:
    """A Spark schema for an empty Arrow table (createDataFrame cannot infer it)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)
