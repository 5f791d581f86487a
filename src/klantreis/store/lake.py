"""A lake of Parquet files: events written by many collector processes side by side.

`[store] kind = "lake"` keeps events and quarantine as Parquet files in day partitions that
Spark, DuckDB, Polars and the shop's own tools read as they are:

    lake/events/date=2026-03-02/part-<uuid>.parquet       (the events of that UTC day)
    lake/quarantine/date=2026-03-02/part-<uuid>.parquet   (what could not become an event)
    lake/products/part-<uuid>.parquet                     (a catalogue an import brought)
    lake/_keys.json                                       (the active write keys, hashed)

Each acknowledged batch is one new file, written under a hidden temporary name, flushed to
disk and renamed: a reader sees a whole file or none, and the name (a random UUID) never
collides, so processes on one file system need no coordination. A repeated message id may be
written twice (a client's retry); readers keep the first (`FIRST_WINS`), and `compact` merges a
day's small files into one and drops the repeats for good. A product imported again (a newer
catalogue export) is a new row beside the old one: readers keep the latest (`LATEST_WINS`),
and `compact` keeps only that.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from klantreis.store.schema import EVENT_ARROW_SCHEMA, QUARANTINE, QUARANTINE_COLUMNS
from klantreis.store.store import AppendResult, quarantine_rows

EVENTS = "events"
QUARANTINED = "quarantine"
PRODUCTS = "products"
PART = "part-"
COMPACTED = "part-c-"
KEYS = "_keys.json"
"""The active write keys' hashes (`collect/keys.py publish_keys`): what collectors check keys
against, so that none of them holds the shop's state file open."""
MAINTENANCE_LOCK = ".maintenance.lock"
"""Held (an exclusive `flock`) by a compaction and by an erasure: each reads files the other
replaces, so a compaction could otherwise copy an erased person's rows into its merged file.
Collectors never take it: they only add files, which neither touches."""
REPLACED = "_replaced.json"
"""Per day folder: the files a compaction replaced, and when; removed by a later compaction
once `grace` has passed, so a reader that listed them a moment before can still open them."""

FIRST_WINS = "received_at, filename"
"""Of the rows with one message id, the one kept: received first, then the file named first."""

LATEST_WINS = "imported_at DESC NULLS LAST, filename DESC"
"""Of the catalogue rows with one product id, the one kept: imported last, then the file named
last (the store keeps the latest import of a product the same way, by its key)."""

_MERGE = (
    "SELECT "  # noqa: S608 - static column names; file names are bound parameters
    + ", ".join(EVENT_ARROW_SCHEMA.names)
    + " FROM ("
    "SELECT *, row_number() OVER (PARTITION BY message_id ORDER BY " + FIRST_WINS + ") AS rank "
    "FROM read_parquet($mine, filename = true)) AS r "
    "WHERE rank = 1 {earlier} ORDER BY timestamp, message_id"
)
"""A day's rows, each message id once; file names are bound parameters, never SQL text."""

_EARLIER = (
    "AND NOT EXISTS (SELECT 1 FROM read_parquet($others) AS o "
    "WHERE o.message_id = r.message_id AND o.received_at <= r.received_at)"
)
"""...and not a message id another day already holds from an earlier receipt."""


_MERGE_PRODUCTS = (
    "SELECT * EXCLUDE (filename, rank) FROM ("  # noqa: S608 - static; files are parameters
    "SELECT *, row_number() OVER (PARTITION BY product_id ORDER BY " + LATEST_WINS + ") AS rank "
    "FROM read_parquet($mine, filename = true, union_by_name = true)) WHERE rank = 1 "
    "ORDER BY product_id"
)
"""The catalogue, each product id once (its latest import)."""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(folder: Path, table: pa.Table, prefix: str = PART) -> Path:
    """`table` as a new Parquet file in `folder`, on disk before this returns.

    Written as `.<name>.tmp` (readers skip hidden files), fsynced, renamed; the folder is
    fsynced too, so the rename survives a crash. Returns the file's path.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}{uuid.uuid4().hex}.parquet"
    tmp = folder / f".{name}.tmp"
    with tmp.open("wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / name
    os.rename(tmp, final)
    _fsync(folder)
    if created:
        _fsync(folder.parent)
    return final


def replace_durably(path: Path, data: bytes) -> None:
    """Replace the file `path` by `data` at once: readers see the old content or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _days(timestamps: pa.ChunkedArray | pa.Array, fallback: pa.ChunkedArray | pa.Array) -> Any:
    """The UTC day of each row: its timestamp, else `fallback` (received_at)."""
    filled = pc.coalesce(timestamps, fallback)
    return pc.strftime(filled, format="%Y-%m-%d")


@dataclass
class CompactSummary:
    days: list[str] = field(default_factory=list)
    files_merged: int = 0
    events_kept: int = 0
    repeats_dropped: int = 0
    files_removed: int = 0
    products_kept: int = 0
    product_versions_dropped: int = 0


class Lake:
    """A lake folder: append events and quarantine rows, compact day partitions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.read_only = False

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS

    @property
    def quarantine_path(self) -> Path:
        return self.path / QUARANTINED

    @property
    def products_path(self) -> Path:
        return self.path / PRODUCTS

    @property
    def keys_path(self) -> Path:
        return self.path / KEYS

    # -- writes ----------------------------------------------------------------------------
    def append(self, events: pa.Table) -> AppendResult:
        """One durable file per UTC day of the events (repeats are dropped by readers and
        by `compact`, so every row counts as stored)."""
        if events.num_rows == 0:
            return AppendResult()
        batch = events
        if not events.schema.equals(EVENT_ARROW_SCHEMA):
            batch = events.select(EVENT_ARROW_SCHEMA.names).cast(EVENT_ARROW_SCHEMA)
        self._partitioned(self.events_path, batch, batch["timestamp"], batch["received_at"])
        return AppendResult(stored=batch.num_rows)

    def quarantine(self, rows: list[dict[str, Any]] | pa.Table) -> int:
        """Keep rows that could not become events, each with where it came from and why."""
        return self.quarantine_table(quarantine_rows(rows))

    def quarantine_table(self, table: pa.Table) -> int:
        if table.num_rows == 0:
            return 0
        table = table.select(list(QUARANTINE_COLUMNS)).cast(QUARANTINE.arrow_schema)
        received = table["received_at"]
        self._partitioned(self.quarantine_path, table, received, received)
        return table.num_rows

    def commit_batch(self, events: pa.Table | None, quarantined: list[dict[str, Any]]) -> None:
        """What the collector's writer does with one round: events and quarantine on disk."""
        if events is not None:
            self.append(events)
        if quarantined:
            self.quarantine(quarantined)

    def append_products(self, products: pa.Table) -> Path | None:
        """A catalogue as one more file of `products/` (the latest import of a product wins)."""
        if products.num_rows == 0:
            return None
        return write_durably(self.products_path, products)

    def merge_staged(self) -> AppendResult:
        """Nothing is staged in a lake: a written file is already where readers look."""
        return AppendResult()

    def _partitioned(
        self,
        root: Path,
        table: pa.Table,
        timestamps: pa.ChunkedArray,
        fallback: pa.ChunkedArray,
    ) -> list[Path]:
        days = _days(timestamps, fallback)
        written = []
        for day in pc.unique(days).to_pylist():
            rows = table.filter(pc.equal(days, day))
            written.append(write_durably(root / f"date={day}", rows))
        return written

    # -- reads -----------------------------------------------------------------------------
    def files(self, root: str = EVENTS) -> list[Path]:
        """Every visible part file under `root` (events or quarantine), day by day."""
        folder = self.path / root
        if not folder.exists():
            return []
        return sorted(folder.glob(f"date=*/{PART}*.parquet"))

    # -- compaction ------------------------------------------------------------------------
    def compact(self, *, grace_seconds: float = 600.0) -> CompactSummary:
        """Merge each day's files into one and drop repeated message ids (first wins).

        A day is merged when it has more than one live file or one not written by a compaction.
        The merged file is renamed into place before anything is removed, so a reader sees the
        old files, the merged one or both (and keeps the first of each message id, the same row
        the merge kept); the replaced files stay `grace_seconds` for readers that listed them
        and are removed by a later compaction. Collectors keep writing meanwhile: a file
        written after the listing is left for the next run.
        """
        with self.maintenance():
            return self._compact(grace_seconds)

    @contextmanager
    def maintenance(self) -> Iterator[None]:
        """One compaction or erasure at a time on this lake (`MAINTENANCE_LOCK`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / MAINTENANCE_LOCK).open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _compact(self, grace_seconds: float) -> CompactSummary:
        import duckdb

        summary = CompactSummary()
        summary.files_removed = self._remove_replaced(grace_seconds)
        self._compact_products(summary)
        by_day: dict[Path, list[Path]] = {}
        for file in self.files(EVENTS):
            by_day.setdefault(file.parent, []).append(file)
        live = {day: self._live(day, files) for day, files in by_day.items()}
        touched = {
            day: files
            for day, files in live.items()
            if len(files) > 1 or any(not f.name.startswith(COMPACTED) for f in files)
        }
        if not touched:
            return summary
        others = [f for day, files in live.items() if day not in touched for f in files]
        con = duckdb.connect()
        try:
            for day, files in sorted(touched.items()):
                kept, repeats = self._merge_day(con, day, files, others)
                summary.days.append(day.name.removeprefix("date="))
                summary.files_merged += len(files)
                summary.events_kept += kept
                summary.repeats_dropped += repeats
                others.extend(self._live(day, self.files_in(day)))
        finally:
            con.close()
        return summary

    def product_files(self) -> list[Path]:
        """The catalogue files a reader should read (not replaced by a compaction)."""
        return self._live(self.products_path, self.files_in(self.products_path))

    def _compact_products(self, summary: CompactSummary) -> None:
        """Merge the catalogue's files into one, each product id once (its latest import)."""
        import duckdb

        files = self.product_files()
        if len(files) < 2 and all(f.name.startswith(COMPACTED) for f in files):
            return
        mine = [str(f) for f in files]
        con = duckdb.connect()
        try:
            table = con.sql(_MERGE_PRODUCTS, params={"mine": mine}).to_arrow_table()
            total = con.execute("SELECT count(*) FROM read_parquet($mine)", {"mine": mine})
            versions = int(total.fetchall()[0][0])
        finally:
            con.close()
        write_durably(self.products_path, table, COMPACTED)
        self._mark_replaced(self.products_path, files)
        summary.products_kept = table.num_rows
        summary.product_versions_dropped = versions - table.num_rows

    @staticmethod
    def files_in(day: Path) -> list[Path]:
        return sorted(day.glob(f"{PART}*.parquet"))

    def _merge_day(
        self, con: Any, day: Path, files: list[Path], others: list[Path]
    ) -> tuple[int, int]:
        mine = [str(f) for f in files]
        params: dict[str, Any] = {"mine": mine}
        earlier = ""
        if others:
            params["others"] = [str(f) for f in others]
            earlier = _EARLIER
        table = con.sql(_MERGE.format(earlier=earlier), params=params).to_arrow_table()
        total = con.execute("SELECT count(*) FROM read_parquet($mine)", {"mine": mine})
        write_durably(day, table.cast(EVENT_ARROW_SCHEMA), COMPACTED)
        self._mark_replaced(day, files)
        return table.num_rows, int(total.fetchall()[0][0]) - table.num_rows

    # The replaced files of a day: listed in `_replaced.json` until they are removed.
    def _replaced(self, day: Path) -> dict[str, float]:
        path = day / REPLACED
        if not path.exists():
            return {}
        return {str(k): float(v) for k, v in orjson.loads(path.read_bytes()).items()}

    def _live(self, day: Path, files: Iterable[Path]) -> list[Path]:
        replaced = self._replaced(day)
        return [f for f in files if f.name not in replaced]

    def _mark_replaced(self, day: Path, files: list[Path]) -> None:
        replaced = self._replaced(day)
        now = time.time()
        replaced.update({f.name: now for f in files})
        self._write_replaced(day, replaced)

    def _write_replaced(self, day: Path, replaced: dict[str, float]) -> None:
        path = day / REPLACED
        if not replaced:
            path.unlink(missing_ok=True)
            return
        replace_durably(path, orjson.dumps(replaced))

    def _remove_replaced(self, grace_seconds: float) -> int:
        removed = 0
        now = time.time()
        listings = [*self.events_path.glob(f"date=*/{REPLACED}"), self.products_path / REPLACED]
        for listing in sorted(p for p in listings if p.exists()):
            day = listing.parent
            replaced = self._replaced(day)
            due = [name for name, at in replaced.items() if now - at >= grace_seconds]
            for name in due:
                (day / name).unlink(missing_ok=True)
                del replaced[name]
                removed += 1
            if due:
                self._write_replaced(day, replaced)
        return removed

    def is_replaced(self, file: Path) -> bool:
        """`file` was merged into a compacted file and waits out its grace period."""
        return file.name in self._replaced(file.parent)

    def replace_file(self, file: Path, kept: pa.Table | None) -> Path | None:
        """Put `kept` (some of `file`'s rows) in the place of `file`, then remove `file`.

        The new file is written as every file is (hidden name, fsync, rename) before the old
        one goes, so a reader sees the old file, both (and keeps each message id once) or the
        new one, never neither. A file a compaction already replaced, or one with no rows
        left, is only removed. Returns the new file, if any.
        """
        written = None
        replaced = self._replaced(file.parent)
        if kept is not None and kept.num_rows and file.name not in replaced:
            prefix = COMPACTED if file.name.startswith(COMPACTED) else PART
            written = write_durably(file.parent, kept, prefix)
        file.unlink(missing_ok=True)
        if file.name in replaced:
            del replaced[file.name]
            self._write_replaced(file.parent, replaced)
        _fsync(file.parent)
        return written

    def live_files(self) -> list[Path]:
        """The event files a reader should read: every part file not replaced by a merge."""
        by_day: dict[Path, list[Path]] = {}
        for file in self.files(EVENTS):
            by_day.setdefault(file.parent, []).append(file)
        return [f for day, files in by_day.items() for f in self._live(day, files)]
