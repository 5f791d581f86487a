"""Read an export file (CSV, JSON lines, Parquet) as Arrow batches that know their line.

Every row carries `__line`: the 1-based line of the file where the row starts (the CSV header
is line 1), so a bad row can be quarantined with the place a person opens in an editor. DuckDB
reads the file (its CSV sniffer finds delimiter and quoting; `store_rejects` keeps rows with the
wrong number of fields instead of failing the whole file); a private in-memory connection is the
import's workspace, so reading never holds the store's write lock.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from klantreis.collect.imports import jsonlines
from klantreis.collect.imports.errors import ImportFailed

LINE_COLUMN = "__line"
FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_CSV_SQL = (
    "SELECT * FROM read_csv($path, all_varchar = true, header = true, store_rejects = true, "
    "rejects_table = 'klantreis_rejects', rejects_scan = 'klantreis_reject_scans'{options})"
)
_CSV_OPTIONS = {
    "delimiter": ", delim = $delim",
    "quote": ", quote = $quote",
    "encoding": ", encoding = $encoding",
}
"""Options a mapping may set; their text is ours, their values are bound parameters."""
_PARQUET_SQL = "SELECT * FROM read_parquet($path)"


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The file's format: as given, else from its suffix (`.csv.gz` counts as `.csv`)."""
    if fmt:
        if fmt not in FORMATS:
            raise ImportFailed(f"{path}: unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
        return fmt
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in _SUFFIXES:
        raise ImportFailed(
            f"{path}: unknown format {suffix or '(no suffix)'!r}; "
            f"name the format ({', '.join(FORMATS)}) in the mapping"
        )
    return _SUFFIXES[suffix]


@dataclass(frozen=True)
class RejectedRow:
    """A CSV line the reader could not split into the header's columns."""

    line: int
    physical_lines: int
    column: str | None
    reason: str
    raw: str
    counted: bool = False
    """True when the row's line was counted in the `__line` of the rows after it (JSON lines)."""


@dataclass
class Source:
    """One export file opened for reading in an import workspace."""

    path: Path
    format: str
    connection: duckdb.DuckDBPyConnection
    columns: dict[str, str] = field(default_factory=dict)
    """Column name -> DuckDB type (all VARCHAR for CSV)."""
    delimiter: str | None = None
    quote: str | None = None
    encoding: str | None = None
    records: str | None = None
    """JSON only: the key holding the list of objects (`{"reviews": [...]}`)."""
    rows_read: int = 0
    _bad_lines: list[RejectedRow] = field(default_factory=list)
    _spans: bool | None = None

    @classmethod
    def open(
        cls,
        path: str | Path,
        fmt: str | None = None,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        delimiter: str | None = None,
        quote: str | None = None,
        encoding: str | None = None,
        records: str | None = None,
    ) -> Source:
        path = Path(path)
        if not path.exists():
            raise ImportFailed(f"{path}: no such file")
        if path.is_dir():
            raise ImportFailed(f"{path}: is a directory, expected a file")
        if path.stat().st_size == 0:
            raise ImportFailed(f"{path}: is empty")
        source = cls(
            path,
            detect_format(path, fmt),
            connection or workspace(),
            delimiter=delimiter,
            quote=quote,
            encoding=encoding,
            records=records,
        )
        try:
            if source.format == "jsonl":
                found = jsonlines.keys(source.connection, path, records)
                described = [(key, "VARCHAR") for key in found]
            else:
                described = source._relation().describe_columns()
        except duckdb.Error as exc:
            message = f"{path}: cannot be read as {source.format}: {_first_line(exc)}"
            raise ImportFailed(message) from None
        source.columns = dict(described)
        if LINE_COLUMN in source.columns:
            raise ImportFailed(f"{path}: column name {LINE_COLUMN!r} is reserved")
        return source

    def _relation(self) -> _Relation:
        con = self.connection
        params: dict[str, str] = {"path": str(self.path)}
        if self.format == "csv":
            given = {
                "delim": self.delimiter,
                "quote": self.quote,
                "encoding": self.encoding,
            }
            options = "".join(
                text
                for (name, text), value in zip(_CSV_OPTIONS.items(), given.values(), strict=True)
                if value is not None
            )
            params |= {key: value for key, value in given.items() if value is not None}
            return _Relation(con, _CSV_SQL.format(options=options), params)
        if self.format == "jsonl":
            sql, params = jsonlines.source_sql(self.path, self.records)
            return _Relation(con, sql, params)
        return _Relation(con, _PARQUET_SQL, params)

    def batches(self, rows: int = 100_000) -> Iterator[pa.Table]:
        """The file's rows in file order, `rows` at a time, each with its `__line`."""
        first_line = 2 if self.format == "csv" else 1
        cursor = self.connection.cursor() if self.format == "jsonl" else None
        try:
            reader = self._relation().reader(rows)
            for batch in reader:
                table = pa.Table.from_batches([batch])
                lines, first_line = _line_numbers(table, first_line, self._may_span_lines())
                table = table.append_column(LINE_COLUMN, lines)
                if cursor is not None:
                    table = self._objects(cursor, table)
                self.rows_read += table.num_rows
                yield table
        except duckdb.Error as exc:
            raise ImportFailed(f"{self.path}: cannot be read: {_first_line(exc)}") from None

    def _may_span_lines(self) -> bool:
        """Whether a CSV row can span lines: only if the file has a quote character at all.

        Counting newlines in every cell costs more than reading the file once for a quote.
        """
        if self.format != "csv":
            return False
        if self._spans is None:
            # The sniffer may pick ' as the quote when none is given.
            quotes = [q.encode() for q in ([self.quote] if self.quote else ['"', "'"])]
            opener = gzip.open if self.path.suffix.lower() == ".gz" else open
            self._spans = False
            with opener(self.path, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    if any(quote in chunk for quote in quotes):
                        self._spans = True
                        break
        return self._spans

    def read_all(self) -> pa.Table:
        """The whole file as one table (for the small files of an Olist export)."""
        tables = list(self.batches())
        if not tables:
            schema = pa.schema(
                [pa.field(name, pa.string()) for name in self.columns]
                + [pa.field(LINE_COLUMN, pa.int64())]
            )
            return schema.empty_table()
        return pa.concat_tables(tables)

    def _objects(self, cursor: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
        table, bad = jsonlines.split(cursor, lines, list(self.columns), LINE_COLUMN)
        self._bad_lines += [
            RejectedRow(line, 1, None, "not a JSON object", text, counted=True)
            for line, text in bad
        ]
        self.rows_read += len(bad)
        return table

    def rejected(self) -> list[RejectedRow]:
        """Rows the reader could not use (CSV: wrong number of fields; JSON lines: not an
        object), after `batches` is consumed."""
        if self.format != "csv":
            return list(self._bad_lines)
        try:
            rows = self.connection.execute(
                "SELECT e.byte_position, e.line, e.column_name, e.error_message, e.csv_line "
                "FROM klantreis_rejects e JOIN klantreis_reject_scans s USING (scan_id, file_id) "
                "WHERE s.file_path = $path ORDER BY e.byte_position",
                {"path": str(self.path)},
            ).fetchall()
        except duckdb.CatalogException:
            return []
        seen: set[int] = set()
        result = []
        for byte_position, duck_line, column, message, csv_line in rows:
            if byte_position in seen:  # the reader records one row per sniff pass
                continue
            seen.add(byte_position)
            body = (csv_line or "").strip("\r\n")
            line = _line_of(self.path, int(byte_position), body) or int(duck_line)
            result.append(RejectedRow(line, body.count("\n") + 1, column, str(message), body))
        return result


def corrected_lines(lines: list[int], rejected: list[RejectedRow]) -> list[int]:
    """Line numbers estimated from the accepted rows, shifted past the rejected rows' lines."""
    rejected = [r for r in rejected if not r.counted]
    if not rejected:
        return lines
    starts = [r.line for r in rejected]
    # Walk the rejects in file order: each one that starts at or before the (shifted) line
    # pushes every later row down by the lines it occupies.
    out = []
    for estimate in lines:
        shift = 0
        for index in range(len(starts)):
            if starts[index] <= estimate + shift:
                shift += rejected[index].physical_lines
            else:
                break
        out.append(estimate + shift)
    return out


class _Relation:
    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str]):
        self.con, self.sql, self.params = con, sql, params

    def describe_columns(self) -> list[tuple[str, str]]:
        rel = self.con.sql(self.sql, params=self.params)
        return [(name, str(dtype)) for name, dtype in zip(rel.columns, rel.types, strict=True)]

    def reader(self, rows: int) -> pa.RecordBatchReader:
        return self.con.sql(self.sql, params=self.params).to_arrow_reader(rows)


def workspace() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for reading and reshaping one import (UTC session)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _line_numbers(table: pa.Table, first: int, multiline: bool) -> tuple[pa.Array, int]:
    """Start line of each row; quoted fields with newlines make a row span several lines."""
    n = table.num_rows
    starts = pa.array(np.arange(first, first + n, dtype=np.int64))
    if not multiline or n == 0:
        return starts, first + n
    extra = None
    for column in table.columns:
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        count = pc.fill_null(pc.count_substring(column, "\n"), 0).cast(pa.int64())
        extra = count if extra is None else pc.add(extra, count)
    if extra is None:
        return starts, first + n
    spans = pc.cumulative_sum(extra)
    before = pc.subtract(spans, extra)
    total = spans[-1].as_py() if n else 0
    return pc.add(starts, before).combine_chunks(), first + n + total


def _line_of(path: Path, byte_position: int, body: str) -> int:
    """1-based line where a rejected row starts.

    DuckDB's reject record gives a byte position near the row (its start, or the start of the
    next line), so find the row's text closest to it and count the newlines before.
    """
    if path.suffix.lower() in (".gz", ".zst") or not body:
        return 0
    needle = body.encode()
    window = 1 << 16
    start = max(0, byte_position - len(needle) - window)
    with path.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read(byte_position - start + len(needle) + window)
        hits = []
        at = chunk.find(needle)
        while at != -1:
            hits.append(at)
            at = chunk.find(needle, at + 1)
        if not hits:
            return 0
        # The position is either where the row starts or where the next line starts.
        best = min(
            hits,
            key=lambda hit: min(
                abs(start + hit - byte_position),
                abs(start + hit + len(needle) + 1 - byte_position),
            ),
        )
        handle.seek(0)
        before = _count_newlines(handle, start + best)
    return before + 1


def _count_newlines(handle: BinaryIO, limit: int) -> int:
    count = 0
    remaining = limit
    while remaining > 0:
        chunk = handle.read(min(remaining, 1 << 20))
        if not chunk:
            break
        count += chunk.count(b"\n")
        remaining -= len(chunk)
    return count


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = [
    "FORMATS",
    "LINE_COLUMN",
    "RejectedRow",
    "Source",
    "corrected_lines",
    "detect_format",
    "workspace",
]
