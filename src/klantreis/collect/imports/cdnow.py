"""The CDNOW purchase log (Fader & Hardie's research data set) as `Order Completed` events.

Its files are columns aligned with spaces (`CDNOW_master.txt`: customer, date, CDs, dollars;
`CDNOW_sample.txt`: customer, original customer, date, CDs, dollars), which no CSV sniffer
splits, so a small reader splits each line on whitespace. It is the anchor of the customer value
method (docs/value.md): the published BG/NBD and Gamma-Gamma estimates come from this log.

One event per line: `user_id` `cdnow:<customer>`, the date at midnight, `revenue`/`total` the
dollar value (currency USD), `quantity` the number of CDs; message ids from file name and line,
so a second import stores nothing twice. A line that is not such a row goes to the quarantine
with file, line and reason.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from klantreis.collect.imports.errors import ImportFailed
from klantreis.collect.imports.summary import ImportSummary, Progress
from klantreis.store import Store
from klantreis.store.schema import EVENT_ARROW_SCHEMA, QUARANTINE
from klantreis.store.store import utcnow

HEADER = ("customer_id", "date", "number_of_cds", "dollar_value")


def _row(fields: list[str]) -> tuple[str, datetime, int, float]:
    """(customer, date, CDs, dollars) of a line's fields, or ValueError naming the column."""
    if len(fields) == 4:
        customer, date, cds, dollars = fields
    elif len(fields) == 5:
        customer, _, date, cds, dollars = fields
    else:
        raise ValueError(f"line: {len(fields)} fields, expected 4 or 5")
    for column, value, check in (
        ("date", date, lambda v: datetime.strptime(v, "%Y%m%d")),
        ("number_of_cds", cds, int),
        ("dollar_value", dollars, float),
    ):
        try:
            check(value)
        except ValueError:
            raise ValueError(f"{column}: {value!r} is not a valid {column}") from None
    return customer, datetime.strptime(date, "%Y%m%d"), int(cds), float(dollars)


def import_cdnow(
    store: Store, file: str | Path, *, progress: Progress | None = None
) -> ImportSummary:
    """Read a CDNOW log into the store; raises `ImportFailed` for a missing or empty file."""
    started = time.perf_counter()
    path = Path(file)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    where = str(path.resolve())
    label = f"import:cdnow:{path.name}"
    summary = ImportSummary(source=label, files=[str(path)])
    now = utcnow()
    events: list[dict[str, object]] = []
    bad: list[dict[str, object]] = []
    with path.open(encoding="ascii", errors="replace") as handle:
        for line, text in enumerate(handle, start=1):
            fields = text.split()
            if not fields or (line == 1 and tuple(fields) == HEADER):
                continue
            summary.rows_read += 1
            try:
                customer, day, cds, dollars = _row(fields)
            except ValueError as exc:
                column, reason = str(exc).split(": ", 1)
                bad.append(_quarantined(label, where, line, column, reason, text, now))
                continue
            events.append(
                {
                    "message_id": f"cdnow:{path.name}:{line}",
                    "type": "track",
                    "event": "Order Completed",
                    "user_id": f"cdnow:{customer}",
                    "timestamp": day,
                    "received_at": now,
                    "channel": "web",
                    "properties": json.dumps(
                        {
                            "order_id": f"cdnow:{path.stem}:{line}",
                            "revenue": dollars,
                            "total": dollars,
                            "quantity": cds,
                            "currency": "USD",
                        }
                    ),
                    "source": label,
                }
            )
    if summary.rows_read == 0:
        raise ImportFailed(f"{path}: no purchase rows")
    table = pa.Table.from_pylist(events, schema=EVENT_ARROW_SCHEMA)
    summary.count_events(table)
    result = store.append(table)
    summary.events_stored, summary.duplicates = result.stored, result.duplicates
    if bad:
        rows = pa.Table.from_pylist(bad, schema=QUARANTINE.arrow_schema)
        summary.count_quarantine(rows)
        store.quarantine_table(rows)
    if progress:
        progress(summary.rows_read, f"reading {path.name}")
    summary.seconds = time.perf_counter() - started
    return summary


def _quarantined(
    label: str, file: str, line: int, column: str, reason: str, raw: str, now: datetime
) -> dict[str, object]:
    key = f"{label}|{file}|{line}".encode()
    return {
        "quarantine_id": hashlib.md5(key, usedforsecurity=False).hexdigest(),
        "received_at": now,
        "source": label,
        "file": file,
        "line": line,
        "column_name": column,
        "reason": reason,
        "raw": raw.rstrip("\r\n")[:10_000],
        "message_id": None,
        "user_id": None,
        "anonymous_id": None,
    }
