"""Where each opportunity belongs on the map: the phase of what it is about.

An expectation goes to the phase of its pain point on this map (else where most of its breaches
are), a topic to the phase that topic is about, a touchpoint to the phase where most persons
meet it (read from the map's top touchpoints per phase; all events are scanned only for the
touchpoints that are in none of them, once for all of them). An opportunity that fits no phase
of the definition stays with the map as a whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.result import Opportunity, PhaseSummary
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

OPPORTUNITIES = 5
_KNOWN = ("title", "kind", "driver", "outcome", "effect", "phase")

_BREACH_PHASES = """
WITH counted AS (
    SELECT expectation_id AS driver, phase, count(*) AS n FROM breaches
    WHERE expectation_id IN :drivers AND :cut
    GROUP BY expectation_id, phase
)
SELECT driver, phase FROM (
    SELECT driver, phase, row_number() OVER (PARTITION BY driver ORDER BY n DESC, phase) AS place
    FROM counted
) AS ranked WHERE place = 1
"""
"""Per expectation, the phase where most of its breaches are (ties: the first phase by name)."""

_TOUCHPOINT_PHASES = """
WITH counted AS (
    SELECT touchpoint AS driver, phase, count(DISTINCT person_id) AS n FROM journey_events
    WHERE touchpoint IN :drivers AND :cut
    GROUP BY touchpoint, phase
)
SELECT driver, phase FROM (
    SELECT driver, phase, row_number() OVER (PARTITION BY driver ORDER BY n DESC, phase) AS place
    FROM counted
) AS ranked WHERE place = 1
"""
"""Per touchpoint, the phase where most persons meet it: one scan for every opportunity the
map's lanes do not place (in a map read in another definition each scan reads the model
through the translation, seconds at 10M events)."""


def _in_lanes(item: dict[str, Any], phases: list[PhaseSummary]) -> str | None:
    """The phase of an opportunity the map itself shows: an expectation's pain point, or
    (the most persons) a touchpoint of the phase's lanes."""
    kind, driver = item.get("kind"), item.get("driver")
    if kind == "expectation":
        for phase in phases:
            if any(p.kind == "expectation" and p.key == driver for p in phase.pain_points):
                return phase.id
    if kind == "touchpoint":
        seen = [
            (t["persons"], phase.id)
            for phase in phases
            for t in phase.touchpoints
            if t["touchpoint"] == driver
        ]
        if seen:
            return max(seen)[1]
    return None


def _scanned(
    kr: Context, items: list[dict[str, Any]], phases: list[PhaseSummary], cuts: tuple[Any, Any]
) -> dict[tuple[str, str], str | None]:
    """The phase of each expectation and touchpoint the lanes do not place, by
    (kind, driver): one query per kind, not one per opportunity."""
    wanted: dict[str, list[str]] = {"expectation": [], "touchpoint": []}
    for item in items:
        kind, driver = item.get("kind"), item.get("driver")
        if kind in wanted and driver is not None and _in_lanes(item, phases) is None:
            wanted[str(kind)].append(str(driver))
    if not kr.engine.has_table("breaches"):
        wanted["expectation"] = []
    found: dict[tuple[str, str], str | None] = {}
    for kind, sql, cut in (
        ("expectation", _BREACH_PHASES, cuts[1]),
        ("touchpoint", _TOUCHPOINT_PHASES, cuts[0]),
    ):
        drivers = list(dict.fromkeys(wanted[kind]))
        if not drivers:
            continue
        for row in kr.engine.rows(Query(sql, drivers=drivers, cut=cut)):
            phase = row["phase"]
            found[(kind, str(row["driver"]))] = None if phase is None else str(phase)
    return found


def _phase_of(
    item: dict[str, Any],
    phases: list[PhaseSummary],
    topic_phase: dict[str, str],
    scanned: dict[tuple[str, str], str | None],
) -> str | None:
    kind, driver = item.get("kind"), item.get("driver")
    if kind == "topic":
        return topic_phase.get(str(driver))
    if kind in ("expectation", "touchpoint"):
        return _in_lanes(item, phases) or scanned.get((str(kind), str(driver)))
    return None


def place_opportunities(
    kr: Context,
    items: list[dict[str, Any]],
    phases: list[PhaseSummary],
    topic_phase: dict[str, str],
    cuts: tuple[Any, Any],
) -> list[Opportunity]:
    """Put the first opportunities into their phases; return those that fit no phase.

    `cuts` are the map's cut over `journey_events` and over `breaches`.
    """
    by_id = {p.id: p for p in phases}
    unplaced = []
    first = items[:OPPORTUNITIES]
    scanned = _scanned(kr, first, phases, cuts)
    for item in first:
        phase = _phase_of(item, phases, topic_phase, scanned)
        opportunity = Opportunity(
            title=str(item.get("title") or item.get("driver") or "?"),
            kind=item.get("kind"),
            driver=item.get("driver"),
            outcome=item.get("outcome"),
            effect=item.get("effect"),
            phase=phase if phase in by_id else None,
            details={k: v for k, v in item.items() if k not in _KNOWN},
        )
        if opportunity.phase is None:
            unplaced.append(opportunity)
        else:
            by_id[opportunity.phase].opportunities.append(opportunity)
    return unplaced
