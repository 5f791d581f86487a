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
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.lanes import VERSION as LANES_VERSION
from klantreis.measure.journey_map.result import (
    JourneyMap,
    Note,
    Opportunity,
    PainPoint,
    PhaseSummary,
    Quote,
)
from klantreis.store.privacy import ErasureStep, PersonIds, Searched, register_erasure_step
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context
    from klantreis.model.definition import JourneyDefinition
    from klantreis.store import Store

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

_TIMES = ("first_event", "last_event")
_RESTS_ON_TABLES = ("voice", "voice_topics")


def fingerprint(kr: Context, definition: JourneyDefinition, language: str) -> str | None:
    """What the uncut map in `definition` and `language` rests on; None where maps are not
    stored (an engine that only reads, a read-only store, no model yet)."""
    if not kr.engine.capabilities.writable or kr.store.read_only:
        return None
    store, engine = kr.store, kr.engine
    model = store.get_meta("model_fingerprint")
    if model is None:
        return None
    parts = [
        VERSION,
        LANES_VERSION,
        definition.model_dump_json(),
        language,
        model,
        str(store.get_meta("expectations_fingerprint")),
    ]
    for table in _RESTS_ON_TABLES:
        parts.append(
            str(engine.scalar(f"SELECT count(*) FROM {table}"))  # noqa: S608 - ours
            if engine.has_table(table)
            else "-"
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
    rows = kr.store.connection.execute(
        "SELECT map, computed_at FROM journey_maps WHERE definition = ? AND language = ? "
        "AND (fingerprint = ? OR ? IS NULL)",
        [definition, language, key, key],
    ).fetchall()
    if not rows:
        return None
    return _loaded(json.loads(rows[0][0])), rows[0][1]


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
    rows = kr.store.connection.execute(
        "SELECT computed_at FROM journey_maps WHERE definition = ? AND language = ?",
        [definition, language],
    ).fetchall()
    return rows[0][0] if rows else None


def write_map(
    kr: Context, definition: str, language: str, key: str, jm: JourneyMap, seconds: float
) -> None:
    kr.store.register_table(MAPS_TABLE)
    text = json.dumps(asdict(jm), default=str)
    with kr.store.write_lock:
        kr.store.connection.execute(
            "INSERT OR REPLACE INTO journey_maps VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [definition, language, key, seconds, text],
        ).fetchall()


def _involved(store: Searched, _who: PersonIds) -> bool:
    """Every stored map counted the person's events, and may quote them."""
    return store.engine.has_table(MAPS_TABLE.name) and bool(
        store.engine.scalar("SELECT count(*) FROM journey_maps")
    )


def _forget_maps(store: Store) -> int:
    with store.write_lock:
        dropped = store.engine.scalar("SELECT count(*) FROM journey_maps")
        store.engine.execute("DELETE FROM journey_maps")
    return int(dropped or 0)


register_erasure_step(ErasureStep(MAPS_TABLE.name, _involved, _forget_maps))


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
