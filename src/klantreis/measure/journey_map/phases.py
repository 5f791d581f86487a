"""Per phase: who gets there, what they do, where and how long (exact counts over
`journey_events`), and the sentence a figure needs when persons per phase is not a funnel.

Time in phase is the `time_in_phase` analysis's (`measure/phase_flow.py`): per journey, the sum
of its stays in the phase, a stay lasting from its first event until the journey's next event in
another phase. Measuring instead from the phase's first event to the first event of the phase
the journey *enters* next gave 0 s whenever the phase was entered last, though the journey went
on: an AIDA journey that browsed (Interest), saw a promotion (Attention) and browsed on had no
phase entered after Attention, so 15,245 Attention journeys had a median of 0 s.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.result import Note, PhaseSummary
from klantreis.measure.phase_flow import run_time_in_phase
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

TOP = 5

_PHASES = """
WITH je AS (SELECT * FROM journey_events WHERE :cut),
jp AS (
    SELECT DISTINCT journey_id, person_id, phase, phase_index FROM je
),
reach AS (
    SELECT a.phase_index, count(DISTINCT a.journey_id) AS journeys_next
    FROM jp AS a JOIN jp AS b
      ON a.journey_id = b.journey_id AND b.phase_index = a.phase_index + 1
    GROUP BY a.phase_index
),
skipped AS (
    SELECT b.phase_index, count(DISTINCT b.person_id) AS persons_without_previous
    FROM jp AS b LEFT JOIN jp AS a
      ON a.journey_id = b.journey_id AND a.phase_index = b.phase_index - 1
    WHERE a.journey_id IS NULL
    GROUP BY b.phase_index
)
SELECT t.phase, t.phase_index,
       count(DISTINCT t.person_id) AS persons,
       count(DISTINCT t.journey_id) AS journeys,
       max(r.journeys_next) AS journeys_next,
       max(s.persons_without_previous) AS persons_without_previous
FROM jp AS t
LEFT JOIN reach AS r ON r.phase_index = t.phase_index
LEFT JOIN skipped AS s ON s.phase_index = t.phase_index
GROUP BY t.phase, t.phase_index
ORDER BY t.phase_index
"""

_TOP = """
WITH je AS (SELECT * FROM journey_events WHERE :cut),
counted AS (
    SELECT phase, {column} AS item, {extra} AS extra,
           count(*) AS events, count(DISTINCT person_id) AS persons
    FROM je WHERE {column} IS NOT NULL GROUP BY phase, {column}, {extra}
)
SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY phase ORDER BY persons DESC, events DESC, item)
              AS position
    FROM counted
) AS ranked WHERE position <= :top
"""

_TOTALS = """
SELECT count(DISTINCT person_id) AS persons, count(DISTINCT journey_id) AS journeys,
       count(DISTINCT CASE WHEN event = :purchase_event THEN journey_id END) AS converted,
       count(*) AS events, min(timestamp) AS first_event, max(timestamp) AS last_event
FROM journey_events WHERE :cut
"""


def _top(kr: Context, cut_tree: Any, column: str, extra: str = "NULL") -> dict[str, list]:
    # column/extra are fixed names from this module, never user input
    sql = _TOP.format(column=column, extra=extra)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in kr.engine.rows(Query(sql, cut=cut_tree, top=TOP)):
        out.setdefault(row["phase"], []).append(row)
    return out


def phase_summaries(
    kr: Context, cut_tree: Any, phase_ids: list[str], labels: list[str]
) -> tuple[list[PhaseSummary], dict[str, int]]:
    """One summary per phase of the definition, and per phase the persons who reached it in a
    journey without the phase before it."""
    stats = {r["phase"]: r for r in kr.engine.rows(Query(_PHASES, cut=cut_tree))}
    times = {
        r["phase"]: r["median_seconds"] for r in run_time_in_phase(kr.engine, cut_tree).to_pylist()
    }
    events = _top(kr, cut_tree, "event")
    touchpoints = _top(kr, cut_tree, "touchpoint", "direct")
    channels = _top(kr, cut_tree, "channel")
    phases: list[PhaseSummary] = []
    skipped: dict[str, int] = {}
    for index, (phase_id, label) in enumerate(zip(phase_ids, labels, strict=True)):
        row = stats.get(phase_id, {})
        journeys = int(row.get("journeys") or 0)
        is_last = index == len(phase_ids) - 1
        skipped[phase_id] = int(row.get("persons_without_previous") or 0)
        phases.append(
            PhaseSummary(
                id=phase_id,
                label=label,
                index=index,
                persons=int(row.get("persons") or 0),
                journeys=journeys,
                conversion_to_next=(
                    None
                    if is_last or journeys == 0
                    else round(int(row.get("journeys_next") or 0) / journeys, 4)
                ),
                median_time_seconds=times.get(phase_id),
                top_events=[
                    {"event": r["item"], "events": r["events"], "persons": r["persons"]}
                    for r in events.get(phase_id, [])
                ],
                touchpoints=[
                    {"touchpoint": r["item"], "direct": r["extra"], "persons": r["persons"]}
                    for r in touchpoints.get(phase_id, [])
                ],
                channels=[
                    {"channel": r["item"], "persons": r["persons"]}
                    for r in channels.get(phase_id, [])
                ],
            )
        )
    return phases, skipped


def totals(kr: Context, cut_tree: Any, purchase_event: str) -> dict[str, Any]:
    return kr.engine.rows(Query(_TOTALS, cut=cut_tree, purchase_event=purchase_event))[0]


#: The smallest rise in persons from one phase to the next that the map explains (1 %).
NOTICEABLE_RISE = 0.01


def funnel_notes(phases: list[PhaseSummary], skipped: dict[str, int]) -> list[Note]:
    """A note for each phase with more persons than the one before it: the map then is not a
    funnel (e.g. service contacts without an order), and a reader must be told why. (A phase
    after an empty one needs no sentence: the empty phase says it.) A rise a reader cannot see
    (below `NOTICEABLE_RISE` of the phase before, e.g. 31,992 after 31,991) is left unsaid: the
    sentence would be noise under every such pair."""
    notes = []
    for previous, phase in pairwise(phases):
        rise = phase.persons - previous.persons
        if previous.persons > 0 and rise > 0 and rise >= NOTICEABLE_RISE * previous.persons:
            notes.append(
                Note(
                    kind="not_a_funnel",
                    phase=phase.id,
                    previous=previous.id,
                    persons=phase.persons,
                    previous_persons=previous.persons,
                    persons_without_previous=skipped.get(phase.id, 0),
                )
            )
    return notes
