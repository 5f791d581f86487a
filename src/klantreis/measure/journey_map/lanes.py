"""The map's own lanes (persons, journeys, conversion, time, top events, touchpoints, channels and,
in the first phases, the sources per phase, and the totals), stored per model so a map reads
them once computed.

They are exact counts over every journey event (a few scans of `journey_events`: tens of
seconds at 10M events on two cores) and change only when the model does, so the lanes of the
whole store (no period or persona cut) are kept in `journey_map_lanes` under the model's
fingerprint: the first map after a model refresh computes them (the server's routine does
that right after each refresh, with the whole map: `stored.py`), every later map reads them;
a dashboard page reading `as_built` takes the last stored lanes, current or not. A cut map,
or one on a read-only engine, is computed each time.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.phases import phase_summaries, totals
from klantreis.measure.journey_map.result import PhaseSummary
from klantreis.measure.journey_map.sources import add_sources
from klantreis.model.as_built import reading_as_built
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context

VERSION = "3"
"""Bump when what the lanes hold changes: stored lanes of another version are recomputed."""

LANES_TABLE = TableSpec(
    "journey_map_lanes",
    """CREATE TABLE IF NOT EXISTS journey_map_lanes (
    definition VARCHAR PRIMARY KEY,
    model_fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    lanes VARCHAR
)""",
)
"""Counts per phase and event/touchpoint/channel names only (no person ids): erasure changes
the events, so the model fingerprint, so the lanes are computed again."""

_TIMES = ("first_event", "last_event")


def phase_lanes(
    kr: Context,
    cut_tree: Any,
    definition: Any,
    labels: list[str],
    *,
    whole_store: bool,
) -> tuple[list[PhaseSummary], dict[str, int], dict[str, Any]]:
    """(phases, persons per phase without the phase before, totals) for the map."""
    key = _key(kr) if whole_store else None
    if key is not None:
        found = _read(kr, definition.name, key if not reading_as_built() else None, labels)
        if found is not None:
            return found
    started = time.perf_counter()
    phases, skipped = phase_summaries(kr, cut_tree, definition.phase_ids, labels)
    add_sources(kr, phases, cut_tree)
    total = totals(kr, cut_tree, definition.purchase_event)
    if key is not None:
        _write(kr, definition.name, key, phases, skipped, total, time.perf_counter() - started)
    return phases, skipped, total


def _key(kr: Context) -> str | None:
    if not kr.engine.capabilities.writable or kr.store.read_only:
        return None
    model = kr.store.get_meta("model_fingerprint")
    return None if model is None else f"{VERSION}:{model}"


def _read(
    kr: Context, definition: str, key: str | None, labels: list[str]
) -> tuple[list[PhaseSummary], dict[str, int], dict[str, Any]] | None:
    """The stored lanes of the model `key` (None: the last stored, for a page `as_built`)."""
    if not kr.engine.has_table(LANES_TABLE.name):
        return None
    rows = kr.store.connection.execute(
        "SELECT lanes FROM journey_map_lanes WHERE definition = ? "
        "AND (model_fingerprint = ? OR ? IS NULL)",
        [definition, key, key],
    ).fetchall()
    if not rows:
        return None
    stored = json.loads(rows[0][0])
    phases = [PhaseSummary(**p) for p in stored["phases"]]
    for phase, label in zip(phases, labels, strict=False):
        phase.label = label  # the reader's language, not the one they were stored in
    total = dict(stored["totals"])
    for name in _TIMES:
        if total.get(name) is not None:
            total[name] = datetime.fromisoformat(total[name])
    return phases, stored["skipped"], total


def _write(
    kr: Context,
    definition: str,
    key: str,
    phases: list[PhaseSummary],
    skipped: dict[str, int],
    total: dict[str, Any],
    seconds: float,
) -> None:
    total = {
        k: v.isoformat() if k in _TIMES and isinstance(v, datetime) else v for k, v in total.items()
    }
    lanes = json.dumps(
        {"phases": [asdict(p) for p in phases], "skipped": skipped, "totals": total},
        default=str,
    )
    kr.store.register_table(LANES_TABLE)
    with kr.store.write_lock:
        kr.store.connection.execute(
            "INSERT OR REPLACE INTO journey_map_lanes VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
            [definition, key, seconds, lanes],
        ).fetchall()
