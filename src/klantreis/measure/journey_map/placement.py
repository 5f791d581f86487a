"""Where each opportunity belongs on the map: the phase of what it is about.

An expectation goes to the phase of its pain point on this map (else where most of its breaches
are), a topic to the phase that topic is about, a touchpoint to the phase where most persons
meet it (read from the map's top touchpoints per phase; all events are scanned only for a
touchpoint that is in none of them). An opportunity that fits no phase of the definition
stays with the map as a whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.result import Opportunity, PhaseSummary
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

OPPORTUNITIES = 5
_KNOWN = ("title", "kind", "driver", "outcome", "effect", "phase")

_BREACH_PHASE = """
SELECT phase FROM breaches WHERE expectation_id = :expectation AND :cut
GROUP BY phase ORDER BY count(*) DESC, phase LIMIT 1
"""

_TOUCHPOINT_PHASE = """
SELECT phase FROM journey_events WHERE touchpoint = :touchpoint AND :cut
GROUP BY phase ORDER BY count(DISTINCT person_id) DESC, phase LIMIT 1
"""


def _phase_of(
    kr: Context,
    item: dict[str, Any],
    phases: list[PhaseSummary],
    topic_phase: dict[str, str],
    cuts: tuple[Any, Any],
) -> str | None:
    kind, driver = item.get("kind"), item.get("driver")
    if kind == "expectation":
        for phase in phases:
            if any(p.kind == "expectation" and p.key == driver for p in phase.pain_points):
                return phase.id
        if kr.engine.has_table("breaches"):
            query = Query(_BREACH_PHASE, expectation=driver, cut=cuts[1])
            found = kr.engine.scalar(query)
            return None if found is None else str(found)
    if kind == "topic":
        return topic_phase.get(str(driver))
    if kind == "touchpoint":
        # the map's own touchpoint lanes first: a scan of all events only when it is not there
        seen = [
            (t["persons"], phase.id)
            for phase in phases
            for t in phase.touchpoints
            if t["touchpoint"] == driver
        ]
        if seen:
            return max(seen)[1]
        found = kr.engine.scalar(Query(_TOUCHPOINT_PHASE, touchpoint=driver, cut=cuts[0]))
        return None if found is None else str(found)
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
    for item in items[:OPPORTUNITIES]:
        phase = _phase_of(kr, item, phases, topic_phase, cuts)
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
