"""The lake read by DuckDB: the engine of a lake shop's dashboard and read API.

On a lake the scheduled jobs (`klantreis model build`, `voice update`, `expectations`, `map`,
... on Spark) write the model and every stored result under `[engine] tables_path`: each table
a folder of Parquet versions and a `_current` naming the complete one (`spark/lake.py`
`Shelf`), with the fingerprints they were made at in `_model.json`. A page reads a few rows of
those tables. Spark would answer such a read in seconds (planning, a JVM, a driver of
gigabytes in the web process); DuckDB reads the same Parquet in milliseconds, in process. So
the dashboard runs the analyses' DuckDB SQL over views of the current versions:

- each derived table is a view of the version `_current` names, followed to the next version
  when a job switches it (checked on every `refresh`, a read of small files): a page never
  sees half a build, and the version it read is kept by the writer until one build later;
- `events` is every live event file of the lake, each message id once (the first received,
  the rule Spark and compaction apply), so what a page computes from events (a period cut, a
  funnel) counts the events the model was built from and those collected since;
- the jobs' fingerprints are this engine's state (`get_state`), so the stored map, cases,
  scores and ranking are read as the jobs stored them.

It only reads the lake: it is not `writable`, so the analyses keep their results in the
engine rather than the state file, and what a page computes (a cut map) stays in this
process's memory; nothing under `tables_path` is written here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from klantreis.errors import KlantreisError
from klantreis.store.engines.base import Capabilities, EngineFactory, as_query
from klantreis.store.engines.duckdb.dialect import to_duckdb
from klantreis.store.engines.duckdb.engine import DuckDBEngine
from klantreis.store.engines.spark.lake import CURRENT, STATE, Shelf
from klantreis.store.lake import FIRST_WINS, PART, Lake
from klantreis.store.query import Query, identifier
from klantreis.store.schema import EVENT_ARROW_SCHEMA

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store

CAPABILITIES = Capabilities(name="duckdb-lake", dialect="duckdb", writable=False)

MEMORY_LIMIT = "lake_memory_limit"
"""The dashboard's `[web] lake_memory_limit`, carried in its engine options."""

NOT_BUILT = (
    "The lake has no model yet: run `klantreis model build` (the scheduled job of "
    "docs/scale-out.md); the pages show their figures once it has run."
)
"""What a page says instead of building the model in the web process (the dashboard's
catalogues translate this text: keep them in step)."""


class NotBuilt(KlantreisError):
    """A page asked for the model before any scheduled job built it into the lake."""

    def __init__(self) -> None:
        super().__init__(NOT_BUILT)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _events_view(lake: Lake) -> str:
    """Every event file of the lake (a compaction's replaced files too: they hold the same
    first rows as the merged one), each message id once."""
    files = _literal(str(lake.events_path / "date=*" / f"{PART}*.parquet"))
    names = ", ".join(EVENT_ARROW_SCHEMA.names)
    return (
        f"CREATE OR REPLACE VIEW events AS SELECT {names} FROM read_parquet({files}, "  # noqa: S608
        "filename = true, hive_partitioning = false, union_by_name = true) "
        f"QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY {FIRST_WINS}) = 1"
    )


class LakeReader(DuckDBEngine):
    """DuckDB in memory over a lake's events and its derived tables (see the module)."""

    capabilities = CAPABILITIES

    def __init__(self, lake: Path, tables: Path | None, *, memory_limit: str | None = None) -> None:
        connection = duckdb.connect()
        if memory_limit:
            connection.execute(f"SET memory_limit = {_literal(memory_limit)}")
        super().__init__(connection)
        self.lake = Lake(lake)
        self.shelf = Shelf(tables) if tables is not None else None
        self._views: dict[str, Path] = {}
        """Each derived table's version its view reads."""
        self._made: set[str] = set()
        """Tables made in this process (what a page computed), until a job writes them."""
        self._file_state: dict[str, Any] = {}
        self._state: dict[str, Any] = {}
        self._events = False
        self._listed = ""
        self._listed_at: tuple[tuple[str, int], ...] | None = None
        """The day folders' modification times when the events were last listed."""
        self.listings = 0
        """How often the lake's event files were listed (each a walk of every day folder)."""
        self._shelf_at: tuple[tuple[str, int], ...] | None = None
        """The tables' folders' modification times when they were last followed."""
        self._kept_rows: dict[tuple[str, str], tuple[Path, list[dict[str, Any]]]] = {}
        """`stored_rows`' answers, each with the version of the table it read."""
        self._lock = threading.Lock()
        self._listing = threading.Lock()
        self.refresh()

    # -- following the lake ------------------------------------------------------------------
    def refresh(self) -> None:
        """Views of the versions `_current` names now, and the jobs' fingerprints."""
        with self._lock:
            con = self._root
            if not self._events and self.lake.live_files():
                con.execute(_events_view(self.lake))
                self._events = True
            if self.shelf is None:
                return
            # a job switches a table by replacing its `_current` (a rename in the table's
            # folder), removes one whole or replaces `_model.json` (renames in the root): each
            # sets a folder's modification time, so unchanged times mean nothing to follow
            stamp = _folder_times(self.shelf.root)
            if stamp is not None and stamp == self._shelf_at:
                return
            self._shelf_at = None  # until the tables are followed to what the stamp shows
            names = self.shelf.names()
            for name in set(self._views) - set(names):
                # removed whole (an erasure removes the stored maps, docs/privacy.md): its
                # view would read files that are gone
                self._drop(name)
                del self._views[name]
            for name in names:
                path = self.shelf.current(name)
                if path is None or self._views.get(name) == path or not path.is_dir():
                    continue
                self._drop(name)
                self._view(name, path)
            state = self.shelf.get_state()
            if state != self._file_state:
                # a job or an erasure (docs/privacy.md) changed what the tables rest on: what
                # a page computed from the earlier ones is dropped, not served beside them
                for name in sorted(self._made):
                    self._drop(name)
                    if name in self._views:  # the stored version it stood in for
                        self._view(name, self._views[name])
                self._file_state = state
                self._state = dict(state)
            self._shelf_at = stamp if stamp is not None and not _recent(stamp) else None

    def _view(self, name: str, path: Path) -> None:
        files = _literal(str(path / "*.parquet"))
        view = identifier(name).sql("duckdb")
        select = f"SELECT * FROM read_parquet({files})"  # noqa: S608 - a quoted path
        self._root.execute(f"CREATE OR REPLACE VIEW {view} AS {select}")
        self._views[name] = path

    def _drop(self, name: str) -> None:
        """The view of `name`, or the table a page computed in its place."""
        kind = "TABLE" if name in self._made else "VIEW"
        self._root.execute(f"DROP {kind} IF EXISTS {identifier(name).sql('duckdb')}")
        self._made.discard(name)

    def stored_rows(self, query: Query | str, table: str) -> list[dict[str, Any]]:
        """The rows of `query` over the stored `table` alone, read from its Parquet once per
        version: a small table every page reads (the personas to choose from) costs a read
        of its files on each request otherwise. `refresh` follows the tables' folders'
        modification times to a job's new version (a time too recent to rely on is checked
        again), and a new version is read anew; a table a page computed is read as it is."""
        sql = to_duckdb(as_query(query, {}).tree)
        with self._lock:
            version = None if table in self._made else self._views.get(table)
            kept = self._kept_rows.get((table, sql))
        if version is None:
            return self.rows(query)
        if kept is None or kept[0] != version:
            kept = (version, self.rows(query))
            with self._lock:
                self._kept_rows[(table, sql)] = kept
        return [dict(row) for row in kept[1]]

    def versions(self) -> dict[str, Path]:
        """The version of each derived table read now (for what a page says it rests on)."""
        return dict(self._views)

    def pages_fingerprint(self) -> str:
        """What a page's figures rest on: the lake's event files, the version of each table
        and the jobs' fingerprints (a job that switches a table changes it)."""
        import hashlib

        self.refresh()
        parts = [str(self.events_fingerprint()), repr(sorted(self._views.items()))]
        parts.append(repr(sorted(self._file_state.items())))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def stored_at(self) -> datetime | None:
        """When a scheduled job last stored a table or a fingerprint (UTC), or None."""
        if self.shelf is None:
            return None
        marks = [version.parent / CURRENT for version in self._views.values()]
        marks.append(self.shelf.root / STATE)
        times = [m.stat().st_mtime for m in marks if m.exists()]
        if not times:
            return None
        return datetime.fromtimestamp(max(times), UTC).replace(tzinfo=None)

    def behind(self) -> bool:
        """Whether the lake holds events the stored model was not built from (collected
        since the last scheduled build)."""
        built = self.get_state("model_fingerprint") or ""
        return bool(built) and not built.endswith(str(self.events_fingerprint()))

    def events_fingerprint(self) -> str | None:
        """The lake's event files (`spark/lake.py` `fingerprint`), listed again only when a
        day folder changed: every write of an event file (a collector's batch, a compaction,
        an erasure's rewrite) adds, renames or removes a file in its day folder, which sets
        that folder's modification time (a new day sets the events folder's)."""
        from klantreis.store.engines.spark.lake import fingerprint

        if not self._events:
            return ""
        stamp = _folder_times(self.lake.events_path, "date=")
        with self._listing:
            if stamp is not None and stamp == self._listed_at:
                return self._listed
        listed = fingerprint(self.lake.events_path)
        with self._listing:
            self.listings += 1
            self._listed = listed
            # a change within the file system's clock tick of the stamp could leave the
            # times as they are: such a recent stamp is not trusted
            self._listed_at = stamp if stamp is not None and not _recent(stamp) else None
        return listed

    def get_state(self, key: str) -> str | None:
        value = self._state.get(key)
        return None if value is None else str(value)

    def set_state(self, key: str, value: str) -> None:
        """Kept in this process only: the jobs' fingerprints are theirs to write."""
        self._state[key] = value

    def has_table(self, name: str) -> bool:
        """The views and tables this reader made, known without asking the catalogue (a
        query of every view's columns)."""
        if name in self._views or name in self._made or (name == "events" and self._events):
            return True
        return super().has_table(name)

    def fetch(self, query: Query | str, /, **params: Any) -> pa.Table:
        return _as_spark_types(super().fetch(query, **params))

    # -- tables a page computes, kept in memory ------------------------------------------------
    def _replace(self, name: str, select: str) -> None:
        target = identifier(name).sql("duckdb")
        with self._lock:
            stored = self._views.get(name) if name not in self._made else None
            if stored is not None:
                # the version stays named in `_views`: the table replaces it until a job
                # switches the table to another version (`refresh`)
                self.connection.execute(f"DROP VIEW IF EXISTS {target}")
            try:
                self.connection.execute(f"CREATE OR REPLACE TABLE {target} AS {select}").fetchall()
            except BaseException:
                if stored is not None:
                    self._view(name, stored)
                raise
            self._made.add(name)

    def create_table_as(self, name: str, query: Query | str, /, **params: Any) -> None:
        if not self.get_state("model_fingerprint"):
            raise NotBuilt()  # not a build of the whole model in the web process
        self._replace(name, to_duckdb(as_query(query, params).tree))

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        view = f"_kr_rows_{threading.get_ident()}"
        self.connection.register(view, table)
        try:
            self._replace(name, f"SELECT * FROM {view}")  # noqa: S608 - a made-up name
        finally:
            self.connection.unregister(view)

    def create_table_mapped(
        self,
        name: str,
        query: Query | str,
        transform: Callable[[pa.Table], pa.Table],
        schema: str,
        /,
        **params: Any,
    ) -> None:
        """The function over the query's rows here, in process (the rows a page computes
        from are the lake's stored tables, not its events)."""
        self.create_table_from_arrow(name, transform(self.fetch(query, **params)))

    def insert_into(self, name: str, query: Query | str, /, **params: Any) -> None:
        raise NotImplementedError("the lake's dashboard writes no table of the lake")


RECENT_NS = 2_000_000_000
"""How close to now a folder's modification time is too close to rely on (the file
system's clock ticks coarsely: two writes within a tick leave one time)."""


def _folder_times(folder: Path, prefix: str = "") -> tuple[tuple[str, int], ...] | None:
    """`folder`'s and each of its folders' (named `prefix`...) modification times (None: no
    folder)."""
    try:
        with os.scandir(folder) as entries:
            inside = sorted(
                (entry.name, entry.stat().st_mtime_ns)
                for entry in entries
                if entry.name.startswith(prefix) and entry.is_dir()
            )
        return (("", folder.stat().st_mtime_ns), *inside)
    except FileNotFoundError:
        return None


def _recent(stamp: tuple[tuple[str, int], ...]) -> bool:
    newest = max(ns for _, ns in stamp)
    return time.time_ns() - newest < RECENT_NS


def _as_spark_types(table: pa.Table) -> pa.Table:
    """Whole-number sums as Spark answers them (64-bit integers), not as DuckDB's 128-bit
    ones (Arrow decimals): what an analysis keeps in memory on an engine that only reads
    (customer values, scores) is computed by code that meets Spark's types there."""
    fields = [
        pa.field(f.name, pa.int64(), f.nullable)
        if pa.types.is_decimal(f.type) and f.type.scale == 0
        else f
        for f in table.schema
    ]
    schema = pa.schema(fields, table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)


_readers: dict[tuple[Path, Path | None, str | None], LakeReader] = {}
_readers_lock = threading.Lock()


def lake_reader(lake: Path, tables: Path | None, *, memory_limit: str | None = None) -> LakeReader:
    """This process's reader of `lake` (one in-memory database, shared by every request),
    refreshed: a job may have switched a table to a new version since the last request."""
    key = (lake.resolve(), tables.resolve() if tables is not None else None, memory_limit)
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = LakeReader(key[0], key[1], memory_limit=memory_limit)
    reader.refresh()
    return reader


def _open(settings: Settings, store: Store) -> LakeReader:
    return reader_for(settings)


def reader_for(settings: Settings) -> LakeReader:
    """The reader of the lake `settings` name, with the derived tables of its jobs."""
    from klantreis.config import StoreSettings

    lake = settings.section(StoreSettings).lake
    if lake is None:
        from klantreis.config import ConfigError

        raise ConfigError('the lake\'s reader needs [store] kind = "lake"', field="store.kind")
    tables = settings.engine_options.get("tables_path")
    cap = settings.engine_options.get(MEMORY_LIMIT)
    return lake_reader(lake, Path(tables) if tables else None, memory_limit=cap)


FACTORY = EngineFactory(CAPABILITIES, _open)
"""Registered by a lake's dashboard (`present/api/app.py`), not a `[engine] name` of its own:
the shop names the engine its jobs run on."""
