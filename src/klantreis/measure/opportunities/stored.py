"""Stored opportunities: the ranked lists per persona cut in `opportunity_results`, under a
fingerprint of what they rest on (the model, the judged expectations, customer values, the
scored voice, the persona's members), so the journey map and the dashboard read them instead
of computing them in a request."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.measure.opportunities.estimates import key_drivers
from klantreis.model import ensure_built
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context
    from klantreis.store.engines.base import Engine

VERSION = "4"
"""Part of the stored results' fingerprint: bump when the method or the output changes."""


OPPORTUNITY_RESULTS = TableSpec(
    "opportunity_results",
    """CREATE TABLE IF NOT EXISTS opportunity_results (
    persona VARCHAR PRIMARY KEY,
    fingerprint VARCHAR,
    model_fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    results VARCHAR
)""",
)
"""The ranked opportunities per persona cut ('' = every person) as JSON. Aggregates only (no
person ids), so erasure needs nothing here: it changes the events and so the fingerprint."""


def state(kr: Context, persona: str | None) -> str:
    """Fingerprint of what the results rest on: the model and the judged expectations (both
    brought up to date first, as the results need them current), the scored voice and the
    persona's members (a count and a hash each: one scan of small tables)."""
    ensure_built(kr)
    engine = kr.engine
    parts = [VERSION, persona or ""]
    if engine.capabilities.writable:
        parts.append(str(kr.store.get_meta("model_fingerprint")))
    else:
        parts.append(str(engine.get_state("model_fingerprint") or ""))
    try:
        from klantreis.measure.expectations.cases import ensure_cases
    except ImportError:
        pass
    else:
        ensure_cases(kr)
        if engine.capabilities.writable:
            parts.append(str(kr.store.get_meta("expectations_fingerprint")))
        else:
            parts.append(str(engine.get_state("expectations_fingerprint") or ""))
    from klantreis.measure.value.table import ensure_values, values_fingerprint

    ensure_values(kr)
    parts.append(values_fingerprint(kr))
    checks = []
    if engine.has_table("voice") and engine.has_table("voice_topics"):
        checks.append(
            "SELECT 'voice' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(message_id || '|' || coalesce(topic, ''))) AS VARCHAR) AS h "
            "FROM voice_topics"
        )
        checks.append(
            "SELECT 'texts' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(message_id || '|' || coalesce(order_id, '') || '|' "
            "|| coalesce(event, ''))) AS VARCHAR) AS h FROM voice"
        )
    if persona is not None and engine.has_table("person_personas"):
        checks.append(
            "SELECT 'personas' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(person_id || '|' || persona)) AS VARCHAR) AS h "
            "FROM person_personas WHERE persona = :persona"
        )
    for check in checks:
        row = engine.rows(Query(check, persona=persona or ""))[0]
        parts.append(f"{row['t']}:{row['n']}:{row['h']}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _current_layout(kr: Context) -> bool:
    columns = kr.engine.rows(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'opportunity_results'"
    )
    return "model_fingerprint" in {r["column_name"] for r in columns}


def read_stored(kr: Context, persona: str | None, fingerprint: str) -> list[dict] | None:
    engine = kr.engine
    if not engine.capabilities.writable:
        row = _engine_row(engine, persona)
        return json.loads(row["results"]) if row and row["fingerprint"] == fingerprint else None
    if not engine.has_table(OPPORTUNITY_RESULTS.name) or not _current_layout(kr):
        return None
    rows = kr.store.connection.execute(
        "SELECT fingerprint, results FROM opportunity_results WHERE persona = ?", [persona or ""]
    ).fetchall()
    if not rows or rows[0][0] != fingerprint:
        return None
    return json.loads(rows[0][1])


def write_stored(
    kr: Context, persona: str | None, fingerprint: str, found: list[dict], seconds: float
) -> None:
    engine = kr.engine
    if not engine.capabilities.writable:
        _write_engine_row(engine, persona, fingerprint, found, seconds)
        return
    with kr.store.write_lock:
        kr.store.register_table(OPPORTUNITY_RESULTS)
        if not _current_layout(kr):  # from before `model_fingerprint`: recomputed anyway
            kr.store.connection.execute("DROP TABLE opportunity_results").fetchall()
            kr.store.register_table(OPPORTUNITY_RESULTS)
        kr.store.connection.execute(
            "INSERT OR REPLACE INTO opportunity_results VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [
                persona or "",
                fingerprint,
                kr.store.get_meta("model_fingerprint"),
                seconds,
                json.dumps(found),
            ],
        ).fetchall()


def _engine_row(engine: Engine, persona: str | None) -> dict[str, Any] | None:
    """The stored row of a cut on an engine that keeps its own tables (Spark over a lake)."""
    if not engine.has_table(OPPORTUNITY_RESULTS.name):
        return None
    rows = engine.rows(
        Query("SELECT * FROM opportunity_results WHERE persona = :p", p=persona or "")
    )
    return rows[0] if rows else None


def _write_engine_row(
    engine: Engine, persona: str | None, fingerprint: str, found: list[dict], seconds: float
) -> None:
    """The cut's row replaced in the engine's `opportunity_results`, written back like its
    model tables (one small table: a row per persona cut)."""
    kept = (
        engine.rows(Query("SELECT * FROM opportunity_results WHERE persona <> :p", p=persona or ""))
        if engine.has_table(OPPORTUNITY_RESULTS.name)
        else []
    )
    row = {
        "persona": persona or "",
        "fingerprint": fingerprint,
        "model_fingerprint": engine.get_state("model_fingerprint"),
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
        "seconds": seconds,
        "results": json.dumps(found),
    }
    schema = pa.schema(
        [
            ("persona", pa.string()),
            ("fingerprint", pa.string()),
            ("model_fingerprint", pa.string()),
            ("computed_at", pa.timestamp("us")),
            ("seconds", pa.float64()),
            ("results", pa.string()),
        ]
    )
    for old in kept:
        if old["computed_at"] is not None:
            old["computed_at"] = old["computed_at"].replace(tzinfo=None)
    engine.create_table_from_arrow(
        OPPORTUNITY_RESULTS.name, pa.Table.from_pylist([*kept, row], schema=schema)
    )


@dataclass
class Stored:
    """The last opportunities stored for a cut, and whether events changed since."""

    items: list[dict[str, Any]]
    stale: bool
    computed_at: Any


def stored_opportunities(
    kr: Context, *, persona: str | None = None, outcome: str | None = None
) -> Stored | None:
    """The last stored opportunities for a cut without computing anything (None if never
    computed): for pages and the journey map, which must not run the analysis in a request.
    `stale` is cheap to tell: the model they were computed on is not the current one."""
    engine = kr.engine
    if not engine.capabilities.writable:
        row = _engine_row(engine, persona)
        if row is None:
            return None
        current = engine.get_state("model_fingerprint")
        items = [
            o for o in json.loads(row["results"]) if outcome is None or o["outcome"] == outcome
        ]
        return Stored(
            items=items, stale=row["model_fingerprint"] != current, computed_at=row["computed_at"]
        )
    if not engine.has_table(OPPORTUNITY_RESULTS.name) or not _current_layout(kr):
        return None
    rows = kr.store.connection.execute(
        "SELECT model_fingerprint, computed_at, results FROM opportunity_results WHERE persona = ?",
        [persona or ""],
    ).fetchall()
    if not rows:
        return None
    model, computed_at, results = rows[0]
    current = kr.store.get_meta("model_fingerprint")
    events = kr.store.events_fingerprint()
    stale = model != current or not str(current or "").endswith(events)
    items = [o for o in json.loads(results) if outcome is None or o["outcome"] == outcome]
    return Stored(items=items, stale=stale, computed_at=computed_at)


def refresh_opportunities(kr: Context, *, persona: str | None = None) -> int | None:
    """Compute and store the ranked lists when what they rest on changed (the server's
    routine runs this after the cases, so pages only read). Returns how many opportunities
    were stored, or None when the stored ones were still current."""
    fingerprint = state(kr, persona)
    if read_stored(kr, persona, fingerprint) is not None:
        return None
    started = time.perf_counter()
    found = [asdict(o) for o in key_drivers(kr, persona=persona) if o.rank]
    write_stored(kr, persona, fingerprint, found, time.perf_counter() - started)
    return len(found)
