"""The scorecard's figures of the whole store, stored per judged cases.

The scorecard's aggregates (counts, trend, effects on outcomes, breakdowns, each kind's own
verdict) change only when the cases are judged again, and the effects read the outcome events
(a scan of the review, survey and order events' properties: seconds at shop scale). So the
figures of the uncut scorecard are kept in `expectation_scorecards` under the fingerprint of
the judged cases (`expectations_fingerprint`): the server's routine computes them right after
judging, every later scorecard reads them (a dashboard page reading `as_built` the last stored ones,
current or not). They hold no words, so one stored row serves every
language. A period or persona cut, or a read-only engine, computes them each time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from klantreis.model.as_built import reading_as_built
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


def _judged(kr: Context) -> str | None:
    if not kr.engine.capabilities.writable or kr.store.read_only:
        return None
    return kr.store.get_meta("expectations_fingerprint")


def stored_key(kr: Context, by: str | None, trend_period: str) -> str | None:
    """The key of the uncut scorecard's figures for the cases as judged now (None: not kept)."""
    judged = _judged(kr)
    return None if judged is None else f"{VERSION}|{judged}|{by or ''}|{trend_period}"


def read_parts(kr: Context, key: str) -> Parts | None:
    if not kr.engine.has_table(SCORECARDS_TABLE.name):
        return None
    con = kr.store.connection
    rows = con.execute("SELECT parts FROM expectation_scorecards WHERE key = ?", [key]).fetchall()
    if not rows and reading_as_built():  # a page: the last figures stored, the routine renews
        version, _, rest = key.partition("|")
        rows = con.execute(
            "SELECT parts FROM expectation_scorecards WHERE starts_with(key, ?) "
            "AND ends_with(key, ?) ORDER BY computed_at DESC LIMIT 1",
            [f"{version}|", "|" + rest.partition("|")[2]],
        ).fetchall()
    return Parts(**json.loads(rows[0][0])) if rows else None


def write_parts(kr: Context, key: str, parts: Parts, seconds: float) -> None:
    """Store the figures, dropping those of cases judged before (they are never read again)."""
    judged = _judged(kr)
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
