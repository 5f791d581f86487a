"""The embedded store: one DuckDB file holding events, quarantine and derived tables.

Events are append-only and keyed by `message_id`: appending a message id that is already stored
is a no-op, which makes every import and every collector retry idempotent.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from klantreis.store.engines.duckdb import DuckDBEngine
from klantreis.store.schema import (
    EVENT_ARROW_SCHEMA,
    EVENT_COLUMNS,
    EVENTS,
    QUARANTINE,
    QUARANTINE_COLUMNS,
    TABLES,
    TableSpec,
)

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store.engines.duckdb.configuration import DuckDBConfiguration

log = logging.getLogger(__name__)


_EVENT_NAMES = ", ".join(name for name, _ in EVENT_COLUMNS)


class StoreLockedError(RuntimeError):
    """Another process holds the store file open for writing."""

    def __init__(self, message: str, path: Path | None = None, holder: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder
        """The process id of the holder, where DuckDB names it."""


@dataclass
class AppendResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0

    def __iadd__(self, other: AppendResult) -> AppendResult:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        return self


REWRITE_PENDING = "store.rewrite_pending"
"""Set in `meta` before an erasure deletes anything, removed by the rewrite that follows it."""


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


BULK_ROWS = 100_000
"""`append` of at least this many events into a store without events loads them in bulk."""


def _canonical(events: pa.Table) -> pa.Table:
    return events.select([name for name, _ in EVENT_COLUMNS]).cast(EVENT_ARROW_SCHEMA)


def _insert_events(
    con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table, *, or_ignore: bool = False
) -> int:
    """`batch` (the event columns) into `table` (`events` or `events_staged`); the rows
    inserted (with `or_ignore`, those whose message id was new)."""
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    # Registered as a reader over an iterator, not as the table: what is registered stays
    # referenced by an open transaction until it commits, so a bulk load of 50M events (one
    # transaction) held every batch in Python memory (110 MB per 250,000 events). An iterator
    # lets go of each record batch once read (`Table.to_reader()` would keep the table).
    rows = pa.RecordBatchReader.from_batches(batch.schema, iter(batch.to_batches()))
    con.register("_klantreis_rows", rows)
    try:
        inserted = con.execute(
            f"{verb} INTO {table} ({_EVENT_NAMES}) "  # noqa: S608 - static names
            f"SELECT {_EVENT_NAMES} FROM _klantreis_rows"
        ).fetchall()
    finally:
        con.unregister("_klantreis_rows")
    return int(inserted[0][0])


def _insert_all(con: duckdb.DuckDBPyConnection, batches: Iterable[pa.Table]) -> int:
    """Every batch into `events` (without its key), one at a time; the rows inserted.

    A function of its own so that the last batch is let go of when it returns: the repeated-id
    check and the key build that follow work within DuckDB's memory limit, and a batch held
    beside them (110 MB per 250,000 events) would be memory above that limit. What Arrow's
    pool keeps of the freed batches is handed back to the system as well.
    """
    offered = 0
    for events in batches:
        if events.num_rows:
            offered += _insert_events(con, "events", _canonical(events))
        # Let go of the batch before the next is asked for: a loop variable would hold it
        # beside the next one while that is read and made (two batches in memory, not one).
        del events
    pa.default_memory_pool().release_unused()
    return offered


def _commit_by_checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Commit the open transaction by a checkpoint, without writing it to the WAL.

    A commit writes a key built in its transaction into the WAL whole, as one entry serialised
    first into one buffer of the next power of two above the key (the message-id key is about
    46 bytes an event): key and buffer, 2.2-2.5 times the key, cannot be evicted, so past the
    memory limit they stay above it (about 6 GiB at 50M events, more than a 6GB limit). A
    commit that checkpoints instead writes the key into the store file block by block. DuckDB
    does so when the commit's WAL would reach both thresholds set here for the commit (they
    are the database's: put back after it). If it cannot checkpoint, it writes the WAL as before.
    """
    before = con.execute(
        "SELECT current_setting('checkpoint_threshold'), "
        "current_setting('auto_checkpoint_skip_wal_threshold')"
    ).fetchall()[0]
    con.execute("SET checkpoint_threshold = '1KB'").fetchall()
    con.execute("SET auto_checkpoint_skip_wal_threshold = 1").fetchall()
    try:
        con.commit()
    finally:
        con.execute("SET checkpoint_threshold = ?", [str(before[0])]).fetchall()
        con.execute(f"SET auto_checkpoint_skip_wal_threshold = {int(before[1])}").fetchall()


def _drop_repeated_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Delete every row of `events` whose message id an earlier row has; how many went.

    Counting the distinct ids reads the id column once; the delete (a window over the ids)
    runs only when there are repeats, which a bulk load rarely has.
    """
    rows, distinct = con.execute(
        "SELECT count(*), count(DISTINCT message_id) FROM events"
    ).fetchall()[0]
    if rows == distinct:
        return 0
    deleted = con.execute(
        "DELETE FROM events WHERE rowid IN (SELECT rowid FROM ("
        "SELECT rowid, row_number() OVER (PARTITION BY message_id ORDER BY rowid) AS n "
        "FROM events) WHERE n > 1)"
    ).fetchall()[0][0]
    return int(deleted)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def quarantine_rows(rows: list[dict[str, Any]] | pa.Table) -> pa.Table:
    """Rows that could not become events as the quarantine's table (every kind of store keeps
    them alike): each with an id and the moment it was received, now unless it says."""
    if isinstance(rows, pa.Table):
        rows = rows.to_pylist()
    now = utcnow()
    records = [
        {
            "quarantine_id": row.get("quarantine_id") or uuid.uuid4().hex,
            "received_at": row.get("received_at") or now,
            **{c: row.get(c) for c in QUARANTINE_COLUMNS[2:]},
        }
        for row in rows
    ]
    return pa.Table.from_pylist(records, schema=QUARANTINE.arrow_schema)


class Store:
    """A klantreis store file. Writes are serialised by one lock (one writer)."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        configuration: DuckDBConfiguration | None = None,
    ) -> None:
        """Open (or create) the store file. `configuration` (`[engine]`'s DuckDB settings:
        memory limit, threads, spill folder) is in force before anything runs on the file:
        the tables made, staged events merged into `events` (its message-id key checked for
        every one), an erasure's rewrite finished (`Store.configured` reads it from the
        settings)."""
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise FileNotFoundError(
                f"store {self.path} does not exist; import or run the demo first"
            )
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                holder = re.search(r"\(PID (\d+)\)", str(exc))
                raise StoreLockedError(
                    f"store {self.path} is open in another klantreis process "
                    "(is `klantreis serve` running?); stop it or use its HTTP API",
                    self.path,
                    int(holder.group(1)) if holder else None,
                ) from exc
            raise
        if configuration is not None:
            configuration.apply(self._con)
        self.read_only = read_only
        self.write_lock = threading.RLock()
        self.merge_lock = threading.RLock()
        """Held while staged events move into `events`; whoever must see no staged rows
        appear in `events` under its feet (erasure) holds it together with `write_lock`."""
        self.engine = DuckDBEngine(self._con)
        if not read_only:
            self.ensure_tables()
            # Events a collector acknowledged before it stopped (or was killed) become visible
            # to whoever opens the store next, whatever the command.
            self.merge_staged()
            if self.get_meta(REWRITE_PENDING):
                try:
                    self.rewrite()  # an erasure was cut short before its rewrite finished
                except (duckdb.Error, OSError) as exc:  # e.g. a full disk: usable, tried again
                    log.warning("store %s: finishing an erasure's rewrite failed: %s", path, exc)

    @classmethod
    def configured(
        cls, settings: Settings, path: str | Path | None = None, *, read_only: bool = False
    ) -> Store:
        """The store of `settings` (or the file `path`), opened with its `[engine]` DuckDB
        settings in force from the first statement (when DuckDB is the engine)."""
        from klantreis.store.engines.duckdb.configuration import DuckDBConfiguration

        configuration = None
        if settings.engine == "duckdb":
            configuration = DuckDBConfiguration.from_options(settings.engine_options)
        return cls(path or settings.store, read_only=read_only, configuration=configuration)

    # -- lifecycle -------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create every registered table that does not exist yet."""
        with self.write_lock:
            for spec in list(TABLES.values()):
                if not spec.derived:
                    self._con.execute(spec.ddl).fetchall()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self.engine.connection

    def rewrite(self, leave_out: Mapping[str, str] | None = None) -> None:
        """Copy every table into a new file and put it in this one's place.

        DuckDB leaves the blocks of deleted rows in the file as they were, so after an erasure
        the person's ids, e-mail and texts could still be read from it with `strings`. The copy
        holds only live rows, less those `leave_out` names per table (a SQL condition): the
        erasure passes the person's conditions, so a model or cases job that read its snapshot
        before the deletes and committed after them cannot bring the person into the new file.
        It is made beside the store and renamed over it (atomic: a crash leaves either file
        whole, and `REWRITE_PENDING`, set by whoever asks for the rewrite, makes the next open
        finish it). Both locks are held throughout, so the collector waits, acknowledges nothing
        meanwhile and loses nothing; other work running on the store at that moment (a query,
        a routine job) fails once. Takes seconds per 100 MB of store (docs/privacy.md).
        """
        if self.read_only:
            raise RuntimeError("a read-only store cannot be rewritten")
        fresh = self.path.with_name(self.path.name + ".rewrite")
        leave_out = leave_out or {}
        with self.write_lock, self.merge_lock:
            for leftover in (fresh, _wal(fresh)):
                leftover.unlink(missing_ok=True)
            con = self._con
            con.execute("CHECKPOINT").fetchall()
            name = con.execute("SELECT current_database()").fetchall()[0][0]
            tables = [
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE database_name = ? AND schema_name = 'main' AND NOT temporary",
                    [name],
                ).fetchall()
            ]
            con.execute(f"ATTACH {_literal(str(fresh))} AS klantreis_rewrite").fetchall()
            try:
                con.execute(f"COPY FROM DATABASE {_quoted(name)} TO klantreis_rewrite (SCHEMA)")
                for table in tables:
                    where = f" WHERE ({leave_out[table]}) IS NOT TRUE" if table in leave_out else ""
                    con.execute(
                        f"INSERT INTO klantreis_rewrite.main.{_quoted(table)} "  # noqa: S608
                        f"SELECT * FROM {_quoted(name)}.main.{_quoted(table)}{where}"
                    ).fetchall()
                con.execute(
                    "DELETE FROM klantreis_rewrite.meta WHERE key = ?", [REWRITE_PENDING]
                ).fetchall()
                con.execute("CHECKPOINT klantreis_rewrite").fetchall()
            except BaseException:
                con.execute("DETACH klantreis_rewrite").fetchall()
                for leftover in (fresh, _wal(fresh)):
                    leftover.unlink(missing_ok=True)
                raise
            con.execute("DETACH klantreis_rewrite").fetchall()
            _fsync(fresh)
            con.close()  # checkpoints and removes this file's WAL; closes every cursor
            unwritten = [w for w in (_wal(fresh), _wal(self.path)) if _size(w)]
            if unwritten:  # never seen; a WAL replayed over the other file would corrupt it
                fresh.unlink(missing_ok=True)
                self._con = duckdb.connect(str(self.path))
                self.engine.reconnect(self._con)
                raise RuntimeError(f"store rewrite stopped: {unwritten[0]} was not checkpointed")
            _wal(self.path).unlink(missing_ok=True)
            os.replace(fresh, self.path)
            _fsync(self.path.parent)
            self._con = duckdb.connect(str(self.path))
            self.engine.reconnect(self._con)

    # -- writes ----------------------------------------------------------------------------
    def append(self, events: pa.Table) -> AppendResult:
        """Store canonical events; a message id already stored (or repeated) is skipped.

        Returns once the transaction is committed (durable in DuckDB's write-ahead log). Into
        a store without events (a first import, the demo) it loads in bulk (`append_many`).
        """
        if events.num_rows == 0:
            return AppendResult()
        if events.num_rows >= BULK_ROWS and self._fresh():
            return self.append_many([events])
        return self._append(events)

    def append_many(self, batches: Iterable[pa.Table]) -> AppendResult:
        """Store many batches of canonical events, as `append` would one by one.

        Into a store without events it is one bulk load, in one transaction: the rows go into
        `events` without its message-id key, repeated message ids are removed after (the
        first stored wins, as with `append`), and the key is then built once. Keeping the key
        while loading costs an index lookup and insert per row: three times the CPU of the
        bulk load (benchmarks/store_load.py). Into a store that has events, each batch is
        appended (and committed) as by `append`, so the key skips the ids already stored.
        """
        if not self._fresh():
            result = AppendResult()
            for batch in batches:
                result += self._append(batch)
            return result
        offered = stored = 0
        with self.write_lock, self.merge_lock:
            con = self.connection
            con.begin()
            try:
                con.execute("DROP TABLE events").fetchall()
                con.execute(EVENTS.create_sql(key=False)).fetchall()
                offered = _insert_all(con, batches)
                stored = offered - _drop_repeated_ids(con)
                key = ", ".join(EVENTS.key)
                con.execute(f"ALTER TABLE events ADD PRIMARY KEY ({key})").fetchall()
                _commit_by_checkpoint(con)
            except BaseException:
                con.rollback()
                raise
        return AppendResult(stored=stored, duplicates=offered - stored)

    def _fresh(self) -> bool:
        """True when the store holds no events yet, staged or stored (a bulk load may begin)."""
        if self.read_only:
            return False
        rows = self.connection.execute(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)) "
            "+ (SELECT count(*) FROM (SELECT 1 FROM events_staged LIMIT 1))"
        ).fetchall()
        return int(rows[0][0]) == 0

    def _append(self, events: pa.Table) -> AppendResult:
        if events.num_rows == 0:
            return AppendResult()
        with self.write_lock:
            stored = _insert_events(self.connection, "events", _canonical(events), or_ignore=True)
        return AppendResult(stored=stored, duplicates=events.num_rows - stored)

    def stage(self, events: pa.Table) -> int:
        """Durably store acknowledged collector events without the message-id check.

        The key lookup of `append` costs the collector most when its commits are small (tens
        of µs per event, growing with the table; benchmarks/collector.py); a plain append to
        `events_staged` costs a few. `merge_staged` later moves them into `events` in large
        rounds, where the check is cheap per event, and a repeated message id is dropped there.
        Call within the caller's transaction (the collector commits it with the quarantine).
        """
        if events.num_rows == 0:
            return 0
        batch = events
        if not events.schema.equals(EVENT_ARROW_SCHEMA):  # the collector's tables already are
            batch = events.select([name for name, _ in EVENT_COLUMNS]).cast(EVENT_ARROW_SCHEMA)
        with self.write_lock:
            _insert_events(self.connection, "events_staged", batch)
        return events.num_rows

    def commit_batch(self, events: pa.Table | None, quarantined: list[dict[str, Any]]) -> None:
        """What the collector's writer does with one round: staged events and quarantined rows
        in one transaction, committed (durable) before any request of the round hears 200."""
        with self.write_lock:
            con = self.connection
            con.begin()
            try:
                if events is not None:
                    self.stage(events)
                if quarantined:
                    self.quarantine(quarantined)
                con.commit()
            except BaseException:
                con.rollback()
                raise

    def merge_staged(self) -> AppendResult:
        """Move every staged event into `events` in one transaction on a cursor of its own.

        Runs beside the collector's appends to `events_staged`: the transaction sees a snapshot,
        so its DELETE removes exactly the rows its INSERT copied, and rows staged meanwhile stay
        for the next round. Returns how many were stored and how many were repeats.
        """
        if self.read_only:
            return AppendResult()
        with self.merge_lock:
            cursor = self._con.cursor()
            try:
                cursor.begin()
                try:
                    staged = cursor.execute("SELECT count(*) FROM events_staged").fetchall()[0][0]
                    if not staged:
                        cursor.rollback()
                        return AppendResult()
                    stored = cursor.execute(
                        f"INSERT OR IGNORE INTO events ({_EVENT_NAMES}) "  # noqa: S608 - static
                        f"SELECT {_EVENT_NAMES} FROM events_staged"
                    ).fetchall()[0][0]
                    cursor.execute("DELETE FROM events_staged").fetchall()
                    cursor.commit()
                except BaseException:
                    cursor.rollback()
                    raise
            finally:
                cursor.close()
        return AppendResult(stored=int(stored), duplicates=int(staged) - int(stored))

    def quarantine(self, rows: list[dict[str, Any]] | pa.Table) -> int:
        """Keep rows that could not become events, each with where it came from and why."""
        return self.quarantine_table(quarantine_rows(rows))

    def quarantine_table(self, table: pa.Table) -> int:
        """Append an Arrow table with the quarantine columns (used by bulk imports)."""
        if table.num_rows == 0:
            return 0
        columns = ", ".join(QUARANTINE_COLUMNS)
        with self.write_lock:
            con = self.connection
            con.register("_klantreis_q", table)
            try:
                con.execute(
                    f"INSERT OR IGNORE INTO quarantine ({columns}) "  # noqa: S608
                    f"SELECT {columns} FROM _klantreis_q"
                ).fetchall()
            finally:
                con.unregister("_klantreis_q")
        return table.num_rows

    def register_table(self, spec: TableSpec) -> None:
        """Create a module's own table now and make erasure reach it."""
        from klantreis.store.schema import register_table

        register_table(spec)
        if not spec.derived and not self.read_only:
            with self.write_lock:
                self._con.execute(spec.ddl).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything this thread runs on the store in the block commits at once, or not at all.

        For results made of several tables (the model, the expectation cases): a reader, or a
        restart after a crash, sees the previous result or the new one, never half of each.
        """
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # -- small key/value state -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.connection.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return None if not rows else str(rows[0][0])

    def set_meta(self, key: str, value: str) -> None:
        with self.write_lock:
            self.connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value]
            ).fetchall()

    def events_fingerprint(self) -> str:
        """Changes whenever events are added or erased; derived tables compare against it."""
        row = self.connection.execute(
            "SELECT count(*), max(received_at), max(timestamp) FROM events"
        ).fetchall()[0]
        return "|".join(str(v) for v in row)
