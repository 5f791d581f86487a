"""Collects an import's bad rows and writes them to the store's quarantine at the end.

Rows are kept until the file has been read because the CSV reader reports malformed lines only
then, and those lines shift the line numbers of the rows after them. Quarantine ids are derived
from source, file and line, so re-importing the same file does not quarantine a row twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pyarrow as pa

from klantreis.collect.imports.readers import RejectedRow, corrected_lines
from klantreis.collect.imports.summary import ImportSummary
from klantreis.store import Store
from klantreis.store.schema import QUARANTINE, QUARANTINE_COLUMNS
from klantreis.store.store import utcnow

SCHEMA = QUARANTINE.arrow_schema


class QuarantineBuffer:
    """Bad rows of one import, as Arrow tables with the quarantine's columns."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tables: list[pa.Table] = []

    def add(self, rows: pa.Table) -> None:
        if rows.num_rows:
            self.tables.append(rows.select(list(QUARANTINE_COLUMNS)).cast(SCHEMA))

    def add_rejected(self, rejected: list[RejectedRow], *, file: str) -> None:
        """Lines the CSV reader could not split into the header's columns."""
        if not rejected:
            return
        now = utcnow()
        records = [
            {
                "quarantine_id": hashlib.md5(
                    f"{self.source}|{file}|malformed|{r.line}".encode(), usedforsecurity=False
                ).hexdigest(),
                "received_at": now,
                "source": self.source,
                "file": file,
                "line": r.line,
                "column_name": r.column,
                "reason": r.reason if r.counted else f"malformed CSV row: {r.reason}",
                "raw": r.raw[:10_000],
                "message_id": None,
                "user_id": None,
                "anonymous_id": None,
            }
            for r in rejected
        ]
        self.tables.append(_table(records))

    def write(
        self, store: Store, summary: ImportSummary, rejected: dict[str, list[RejectedRow]]
    ) -> None:
        """Fix line numbers for malformed lines read before each row, then store."""
        if not self.tables:
            return
        table = pa.concat_tables(self.tables)
        if any(rejected.values()):
            rows = table.to_pylist()
            for file, rejects in rejected.items():
                if not rejects:
                    continue
                mine = [
                    i
                    for i, row in enumerate(rows)
                    if row["file"] == file and not str(row["reason"]).startswith("malformed CSV")
                ]
                fixed = corrected_lines([rows[i]["line"] for i in mine], rejects)
                for i, line in zip(mine, fixed, strict=True):
                    rows[i]["line"] = line
            table = _table(rows)
        summary.count_quarantine(table)
        store.quarantine_table(table)


def _table(records: Sequence[Mapping[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=SCHEMA)
