"""The uncut map, stored whole per definition and language, and read back while nothing it
rests on changed.

Beyond its lanes (`lanes.py`) a map reads the scored texts, the judged cases and the ranked
opportunities, and composes from them the emotion, the pain points with their quotes, the
voice topics and the unscored texts' note: a join of the texts with every journey event and a
scan of the text events, tens of seconds at 10M events, though what they read changes only when
the routine (or a command) stores a new model, new scores, new cases or a new ranking. So the
whole uncut map is kept in `journey_maps` under a fingerprint of exactly those (the model's
fingerprint, the cases' judged fingerprint, the number of scored texts and topics, the time of
the last ranking) and read back while they are unchanged: `klantreis map` on a built store is
then one read. A dashboard page reading `as_built` takes the last stored map, current or not,
with the time it was computed (`stored_at`); the routine computes the maps right after the
results they rest on.

A cut map (a period, a persona, a source) is computed each time, as is a map with errors.

On an engine that only reads events (Spark) `journey_maps` is one of its derived tables, kept
like the model's (in the lake with `tables_path`, so the next process reads it) and the model's
and the cases' fingerprints are the engine's state (`expectations/cases.py` `_write_judged`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.measure.journey_map.lanes import VERSION as LANES_VERSION
from klantreis.measure.journey_map.result import (
    JourneyMap,
    Note,
    Opportunity,
    PainPoint,
    PhaseSummary,
    Quote,
)
from klantreis.store.engine_tables import replace_row
from klantreis.store.privacy import register_erasure_step, stored_results_step
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context
    from klantreis.model.definition import JourneyDefinition

VERSION = "1"
"""Bump when what a map holds or how it is composed changes: stored maps are then computed
again."""

MAPS_TABLE = TableSpec(
    "journey_maps",
    """CREATE TABLE IF NOT EXISTS journey_maps (
    definition VARCHAR,
    language VARCHAR,
    fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    map VARCHAR,
    PRIMARY KEY (definition, language)
)""",
)
"""Counts, names and quotes of the uncut map. Its quotes are customer text and name journeys
(whose ids hold the person's): an erasure removes every stored map (`_forget_maps`), and the
next map or the routine computes them again without the person."""

_ENGINE_SCHEMA = pa.schema(
    [
        ("definition", pa.string()),
        ("language", pa.string()),
        ("fingerprint", pa.string()),
        ("computed_at", pa.timestamp("us")),
        ("seconds", pa.float64()),
        ("map", pa.string()),
    ]
)
"""`MAPS_TABLE`'s columns as an engine that keeps its own tables writes them."""

_TIMES = ("first_event", "last_event")
_RESTS_ON_TABLES = ("voice", "voice_topics")


def _in_engine(kr: Context) -> bool:
    """Whether the maps are the engine's derived table rather than the store's (Spark)."""
    return not kr.engine.capabilities.writable


def _meta(kr: Context, key: str) -> str | None:
    if _in_engine(kr):
        return kr.engine.get_state(key)
    return kr.store.get_meta(key)


def fingerprint(kr: Context, definition: JourneyDefinition, language: str) -> str | None:
    """What the uncut map in `definition` and `language` rests on; None where maps are not
    stored (a read-only store, no model yet)."""
    if not _in_engine(kr) and kr.store.read_only:
        return None
    engine = kr.engine
    model = _meta(kr, "model_fingerprint")
    if not model:
        return None
    parts = [
        VERSION,
        LANES_VERSION,
        definition.model_dump_json(),
        language,
        model,
        str(_meta(kr, "expectations_fingerprint")),
    ]
    for table in _RESTS_ON_TABLES:
        # a missing table counts as an empty one: drawing the map may create them empty (on
        # Spark), and the next reader's key must be the one the map was stored under
        parts.append(
            str(engine.scalar(f"SELECT count(*) FROM {table}"))  # noqa: S608 - ours
            if engine.has_table(table)
            else "0"
        )
    if engine.has_table("opportunity_results"):
        parts.append(str(engine.scalar("SELECT max(computed_at) FROM opportunity_results")))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def read_map(
    kr: Context, definition: str, language: str, key: str | None
) -> tuple[JourneyMap, datetime] | None:
    """The map stored for `key` (None: the last one stored, current or not) and when it was
    computed."""
    if not kr.engine.has_table(MAPS_TABLE.name):
        return None
    if _in_engine(kr):
        row = _engine_row(kr, definition, language)
        if row is None or (key is not None and row["fingerprint"] != key):
            return None
        return _loaded(json.loads(row["map"])), row["computed_at"]
    rows = kr.store.connection.execute(
        "SELECT map, computed_at FROM journey_maps WHERE definition = ? AND language = ? "
        "AND (fingerprint = ? OR ? IS NULL)",
        [definition, language, key, key],
    ).fetchall()
    if not rows:
        return None
    return _loaded(json.loads(rows[0][0])), rows[0][1]


def _engine_row(kr: Context, definition: str, language: str) -> dict[str, Any] | None:
    rows = kr.engine.rows(
        Query(
            "SELECT * FROM journey_maps WHERE definition = :definition AND language = :language",
            definition=definition,
            language=language,
        )
    )
    if not rows:
        return None
    row = rows[0]
    if row["computed_at"] is not None:  # as the store's TIMESTAMP reads: without a zone
        row["computed_at"] = row["computed_at"].replace(tzinfo=None)
    return row


def stored_definitions(kr: Context) -> list[str]:
    """The definitions a map is stored in (some reader asked for each)."""
    if not kr.engine.has_table(MAPS_TABLE.name):
        return []
    rows = kr.engine.rows("SELECT DISTINCT definition FROM journey_maps ORDER BY definition")
    return [str(r["definition"]) for r in rows]


def stored_at(kr: Context, definition: str, language: str) -> datetime | None:
    """When the uncut map in `definition` last stored was computed (a page says so: it shows
    that map while the routine computes a newer one)."""
    if not kr.engine.has_table(MAPS_TABLE.name):
        return None
    if _in_engine(kr):
        row = _engine_row(kr, definition, language)
        return row["computed_at"] if row else None
    rows = kr.store.connection.execute(
        "SELECT computed_at FROM journey_maps WHERE definition = ? AND language = ?",
        [definition, language],
    ).fetchall()
    return rows[0][0] if rows else None


def write_map(
    kr: Context, definition: str, language: str, key: str, jm: JourneyMap, seconds: float
) -> None:
    text = json.dumps(asdict(jm), default=str)
    if _in_engine(kr):
        _write_engine_map(kr, definition, language, key, text, seconds)
        return
    kr.store.register_table(MAPS_TABLE)
    with kr.store.write_lock:
        kr.store.connection.execute(
            "INSERT OR REPLACE INTO journey_maps VALUES (?, ?, ?, ?, ?, ?)",
            # UTC whatever the server's zone (DuckDB's now()::TIMESTAMP is local time)
            [definition, language, key, datetime.now(UTC).replace(tzinfo=None), seconds, text],
        ).fetchall()


def _write_engine_map(
    kr: Context, definition: str, language: str, key: str, text: str, seconds: float
) -> None:
    """The map's row replaced in the engine's `journey_maps`, the table written back whole
    like its model tables (a row per definition and language a map is stored in)."""
    engine = kr.engine
    row = {
        "definition": definition,
        "language": language,
        "fingerprint": key,
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
        "seconds": seconds,
        "map": text,
    }
    keep = Query(
        "SELECT * FROM journey_maps WHERE NOT (definition = :definition AND language = :language)",
        definition=definition,
        language=language,
    )
    replace_row(engine, MAPS_TABLE.name, _ENGINE_SCHEMA, row, keep)


register_erasure_step(stored_results_step(MAPS_TABLE.name))


def _pain(data: dict[str, Any]) -> PainPoint:
    quote = data.get("quote")
    return PainPoint(**{**data, "quote": Quote(**quote) if quote else None})


def _loaded(data: dict[str, Any]) -> JourneyMap:
    phases = [
        PhaseSummary(
            **{
                **p,
                "pain_points": [_pain(x) for x in p["pain_points"]],
                "opportunities": [Opportunity(**o) for o in p["opportunities"]],
            }
        )
        for p in data["phases"]
    ]
    totals = dict(data["totals"])
    for name in _TIMES:
        if isinstance(totals.get(name), str):
            totals[name] = datetime.fromisoformat(totals[name])
    return JourneyMap(
        **{
            **data,
            "totals": totals,
            "phases": phases,
            "opportunities": [Opportunity(**o) for o in data["opportunities"]],
            "notes": [Note(**n) for n in data["notes"]],
        }
    )
