"""Where the customers of the map's first phases came from: the acquisition touchpoints of
the visits in which they did something of that phase (awareness and orientation in six-phase,
attention and interest in AIDA).

One query: that phase's events (under the map's cut) joined to `session_sources` on the
session, persons counted per touchpoint. Only touchpoint ids are kept (the lanes are stored per
model); the presenters name them in the reader's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.result import PhaseSummary
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

PHASES_WITH_SOURCES = 2
"""The first phases of a definition, before anyone is inside the shop's own funnel."""
SHOWN = 4

_SOURCES = """
SELECT j.phase, s.touchpoint, count(DISTINCT j.person_id) AS persons
FROM (SELECT phase, person_id, session_id FROM journey_events
      WHERE phase IN :phases AND :cut) AS j
JOIN session_sources AS s ON s.session_id = j.session_id
GROUP BY j.phase, s.touchpoint
"""


def add_sources(kr: Context, phases: list[PhaseSummary], cut_tree: Any) -> None:
    """Fill `sources` (touchpoint, persons, share of the phase's persons) of the first phases."""
    first = phases[:PHASES_WITH_SOURCES]
    if not first or not kr.engine.has_table("session_sources"):
        return
    rows = kr.engine.rows(Query(_SOURCES, phases=[p.id for p in first], cut=cut_tree))
    for phase in first:
        mine = sorted(
            (r for r in rows if r["phase"] == phase.id),
            key=lambda r: (-r["persons"], r["touchpoint"]),
        )
        phase.sources = [
            {
                "touchpoint": r["touchpoint"],
                "persons": r["persons"],
                "share": round(r["persons"] / phase.persons, 4) if phase.persons else None,
            }
            for r in mine[:SHOWN]
        ]
