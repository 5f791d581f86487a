"""The scorecard's figures of the whole store, stored per judged cases.

The scorecard's aggregates (counts, trend, effects on outcomes, breakdowns, each kind's own
verdict) change only when the cases are judged again, and the effects read the outcome events
(a scan of the review, survey and order events' properties: seconds at shop scale). So the
figures of the uncut scorecard are kept in `expectation_scorecards` under the fingerprint of
the judged cases (`expectations_fingerprint`): the server's routine computes them right after
judging, every later scorecard reads them (a dashboard page reading `as_built` the last stored ones,
current or not). They hold no words, so one stored row serves every
language. A period or persona cut, or a read-only store, computes them each time.

On an engine that only reads events (Spark) `expectation_scorecards` is one of its derived
tables, kept like the stored maps (in the lake with `tables_path`: the scheduled `klantreis
expectations` job stores the figures, and a lake's dashboard reads them instead of computing
them from the cases), under the cases' fingerprint of the engine's state.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.model.as_built import reading_as_built
from klantreis.store.engine_tables import replace_row
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context

VERSION = "1"
"""Bump when what the stored figures hold changes: rows of another version are recomputed."""

SCORECARDS_TABLE = TableSpec(
    "expectation_scorecards",
    """CREATE TABLE IF NOT EXISTS expectation_scorecards (
    key VARCHAR PRIMARY KEY,
    expectations_fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    parts VARCHAR
)""",
)
"""Counts and rates per expectation only (no person ids): erasure changes the events, so the
judged cases, so the fingerprint, and the figures are computed again."""


@dataclass
class Parts:
    """The scorecard's figures from the cases, before any words are put to them."""

    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trends: dict[str, dict[str, Any]] = field(default_factory=dict)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    grouped: list[dict[str, Any]] = field(default_factory=list)
    overall: dict[str, dict[str, Any] | None] = field(default_factory=dict)


_ENGINE_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("expectations_fingerprint", pa.string()),
        ("computed_at", pa.timestamp("us")),
        ("seconds", pa.float64()),
        ("parts", pa.string()),
    ]
)
"""`SCORECARDS_TABLE`'s columns as an engine that keeps its own tables writes them."""


def _in_engine(kr: Context) -> bool:
    """Whether the figures are the engine's derived table rather than the store's (Spark)."""
    return not kr.engine.capabilities.writable


def _judged(kr: Context) -> str | None:
    if _in_engine(kr):
        return kr.engine.get_state("expectations_fingerprint") or None
    if kr.store.read_only:
        return None
    return kr.store.get_meta("expectations_fingerprint")


def stored_key(kr: Context, by: str | None, trend_period: str) -> str | None:
    """The key of the uncut scorecard's figures for the cases as judged now (None: not kept)."""
    judged = _judged(kr)
    return None if judged is None else f"{VERSION}|{judged}|{by or ''}|{trend_period}"


def _same_cut(key: str) -> tuple[str, str]:
    """The start and end of the keys of figures of the same version, grouping and trend."""
    version, _, rest = key.partition("|")
    return f"{version}|", "|" + rest.partition("|")[2]


def read_parts(kr: Context, key: str) -> Parts | None:
    if not kr.engine.has_table(SCORECARDS_TABLE.name):
        return None
    if _in_engine(kr):
        return _read_engine_parts(kr, key)
    con = kr.store.connection
    rows = con.execute("SELECT parts FROM expectation_scorecards WHERE key = ?", [key]).fetchall()
    if not rows and reading_as_built():  # a page: the last figures stored, the routine renews
        rows = con.execute(
            "SELECT parts FROM expectation_scorecards WHERE starts_with(key, ?) "
            "AND ends_with(key, ?) ORDER BY computed_at DESC LIMIT 1",
            list(_same_cut(key)),
        ).fetchall()
    return Parts(**json.loads(rows[0][0])) if rows else None


def _read_engine_parts(kr: Context, key: str) -> Parts | None:
    """From the engine's table (a row per grouping and trend: read whole, a few rows)."""
    rows = kr.engine.rows("SELECT key, computed_at, parts FROM expectation_scorecards")
    found = [r for r in rows if r["key"] == key]
    if not found and reading_as_built():  # a page: the last figures stored, the job renews
        start, end = _same_cut(key)
        alike = [r for r in rows if r["key"].startswith(start) and r["key"].endswith(end)]
        found = sorted(alike, key=lambda r: r["computed_at"] or datetime.min, reverse=True)
    return Parts(**json.loads(found[0]["parts"])) if found else None


def write_parts(kr: Context, key: str, parts: Parts, seconds: float) -> None:
    """Store the figures, dropping those of cases judged before (they are never read again)."""
    judged = _judged(kr)
    if _in_engine(kr):
        _write_engine_parts(kr, key, judged, json.dumps(asdict(parts), default=str), seconds)
        return
    kr.store.register_table(SCORECARDS_TABLE)
    with kr.store.write_lock:
        con = kr.store.connection
        con.execute(
            "DELETE FROM expectation_scorecards WHERE expectations_fingerprint <> ?", [judged]
        ).fetchall()
        con.execute(
            "INSERT OR REPLACE INTO expectation_scorecards VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
            [key, judged, seconds, json.dumps(asdict(parts), default=str)],
        ).fetchall()


def _write_engine_parts(
    kr: Context, key: str, judged: str | None, text: str, seconds: float
) -> None:
    """The row of `key` replaced in the engine's `expectation_scorecards`, the table written
    back whole like its model tables (rows of cases judged before are dropped)."""
    engine = kr.engine
    row = {
        "key": key,
        "expectations_fingerprint": judged,
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
        "seconds": seconds,
        "parts": text,
    }
    keep = Query(
        "SELECT * FROM expectation_scorecards "
        "WHERE expectations_fingerprint = :judged AND key <> :key",
        judged=judged,
        key=key,
    )
    replace_row(engine, SCORECARDS_TABLE.name, _ENGINE_SCHEMA, row, keep)
