"""The journey map: per phase, who gets there, what they do, where, how long, and how it feels.

Numbers per phase (all exact distinct counts over `journey_events`):
- persons / journeys reaching the phase (any event in it);
- conversion to the next phase: share of the journeys in this phase that also reach the next;
- median time in phase: per journey, from its first event in the phase to its first event in
  the next phase it reaches (or to its last event in the phase when it goes no further);
- top events, touchpoints (direct/indirect) and channels by persons;
- emotion: the voice module's sentiment per phase when it is there; otherwise review scores,
  which speak for the evaluation phase only (scaled to -1..+1 as (rating - 3) / 2);
- pain points from breached expectations, when the expectations module has run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis, get_analysis
from klantreis.model import ensure_built, load_definition
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

TOP = 5

_PHASES = """
WITH je AS (SELECT * FROM journey_events WHERE :cut),
jp AS (
    SELECT journey_id, person_id, phase, phase_index,
           min(timestamp) AS first_at, max(timestamp) AS last_at
    FROM je GROUP BY journey_id, person_id, phase, phase_index
),
timed AS (
    SELECT *,
           lead(first_at) OVER (PARTITION BY journey_id ORDER BY phase_index) AS next_first_at,
           lead(phase_index) OVER (PARTITION BY journey_id ORDER BY phase_index) AS next_index
    FROM jp
),
reach AS (
    SELECT a.phase_index, count(DISTINCT a.journey_id) AS journeys_next
    FROM jp AS a JOIN jp AS b
      ON a.journey_id = b.journey_id AND b.phase_index = a.phase_index + 1
    GROUP BY a.phase_index
)
SELECT t.phase, t.phase_index,
       count(DISTINCT t.person_id) AS persons,
       count(DISTINCT t.journey_id) AS journeys,
       max(r.journeys_next) AS journeys_next,
       median(date_diff('second', t.first_at,
                        coalesce(t.next_first_at, t.last_at))) AS median_seconds
FROM timed AS t LEFT JOIN reach AS r ON r.phase_index = t.phase_index
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

_REVIEWS = """
SELECT count(*) AS reviews,
       avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS mean_rating
FROM journey_events
WHERE event = 'Review Submitted' AND TRY_CAST(properties ->> '$.rating' AS DOUBLE) IS NOT NULL
  AND :cut
"""


@dataclass
class PhaseSummary:
    id: str
    label: str
    index: int
    persons: int = 0
    journeys: int = 0
    conversion_to_next: float | None = None
    median_time_seconds: float | None = None
    top_events: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    emotion: dict[str, Any] | None = None
    pain_points: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class JourneyMap:
    definition: str
    definition_label: str
    language: str
    cut: dict[str, Any]
    totals: dict[str, Any]
    phases: list[PhaseSummary]
    opportunities: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_arrow(self) -> pa.Table:
        """One row per phase, for notebooks."""
        rows = [
            {
                "phase": p.id,
                "label": p.label,
                "persons": p.persons,
                "journeys": p.journeys,
                "conversion_to_next": p.conversion_to_next,
                "median_time_seconds": p.median_time_seconds,
                "top_touchpoint": p.touchpoints[0]["touchpoint"] if p.touchpoints else None,
                "top_channel": p.channels[0]["channel"] if p.channels else None,
                "emotion": (p.emotion or {}).get("value"),
                "pain_points": len(p.pain_points),
            }
            for p in self.phases
        ]
        return pa.Table.from_pylist(rows)

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_arrow())


def _top(kr: Context, cut_tree: Any, column: str, extra: str = "NULL") -> dict[str, list]:
    # column/extra are fixed names from this module, never user input
    sql = _TOP.format(column=column, extra=extra)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in kr.engine.rows(Query(sql, cut=cut_tree, top=TOP)):
        out.setdefault(row["phase"], []).append(row)
    return out


def _optional(name: str, kr: Context, **kwargs: Any) -> Any:
    """Another module's analysis if it is installed and has data; None otherwise."""
    func = get_analysis(name)
    if func is None:
        return None
    try:
        return func(kr, **kwargs)
    except Exception:
        return None


@analysis("journey_map")
def journey_map(
    kr: Context,
    definition: str | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
    language: str = "en",
) -> JourneyMap:
    """Build (if needed) the model and compute the journey map for a cut."""
    ensure_built(kr, definition)
    resolved = load_definition(definition or kr.store.get_meta("model_definition"))
    cut = Cut.parse(start, end, persona)
    cut_tree = cut.condition(kr.engine)
    stats = {r["phase"]: r for r in kr.engine.rows(Query(_PHASES, cut=cut_tree))}
    events = _top(kr, cut_tree, "event")
    touchpoints = _top(kr, cut_tree, "touchpoint", "direct")
    channels = _top(kr, cut_tree, "channel")
    totals = kr.engine.rows(Query(_TOTALS, cut=cut_tree, purchase_event=resolved.purchase_event))[0]

    phases: list[PhaseSummary] = []
    for index, spec in enumerate(resolved.phases):
        row = stats.get(spec.id, {})
        journeys = int(row.get("journeys") or 0)
        is_last = index == len(resolved.phases) - 1
        phases.append(
            PhaseSummary(
                id=spec.id,
                label=resolved.phase_label(spec.id, language),
                index=index,
                persons=int(row.get("persons") or 0),
                journeys=journeys,
                conversion_to_next=(
                    None
                    if is_last or journeys == 0
                    else round(int(row.get("journeys_next") or 0) / journeys, 4)
                ),
                median_time_seconds=row.get("median_seconds"),
                top_events=[
                    {"event": r["item"], "events": r["events"], "persons": r["persons"]}
                    for r in events.get(spec.id, [])
                ],
                touchpoints=[
                    {"touchpoint": r["item"], "direct": r["extra"], "persons": r["persons"]}
                    for r in touchpoints.get(spec.id, [])
                ],
                channels=[
                    {"channel": r["item"], "persons": r["persons"]}
                    for r in channels.get(spec.id, [])
                ],
            )
        )
    _add_emotion(kr, phases, cut_tree, resolved.phase_ids, cut)
    _add_pain_points(kr, phases, cut)
    opportunities = _optional("opportunities", kr, persona=cut.persona) or []
    if not isinstance(opportunities, list):
        opportunities = getattr(opportunities, "items", None) or []
    return JourneyMap(
        definition=resolved.name,
        definition_label=resolved.label.get(language) or resolved.name,
        language=language,
        cut={"start": start, "end": end, "persona": persona},
        totals=totals,
        phases=phases,
        opportunities=[o if isinstance(o, dict) else asdict(o) for o in opportunities][:5],
    )


def _add_emotion(
    kr: Context, phases: list[PhaseSummary], cut_tree: Any, phase_ids: list[str], cut: Cut
) -> None:
    voice = _optional("emotion_by_phase", kr, persona=cut.persona)
    if isinstance(voice, dict) and voice:
        for phase in phases:
            value = voice.get(phase.id)
            if isinstance(value, dict) and value.get("value") is not None:
                phase.emotion = {**value, "source": value.get("source", "voice")}
            elif isinstance(value, (int, float)):
                phase.emotion = {"value": float(value), "source": "voice"}
    reviews = kr.engine.rows(Query(_REVIEWS, cut=cut_tree))[0]
    evaluation = next((p for p in phases if p.id == "evaluation"), phases[-1])
    if evaluation.emotion is None and reviews["reviews"]:
        rating = float(reviews["mean_rating"])
        evaluation.emotion = {
            "value": round((rating - 3) / 2, 3),
            "mean_rating": round(rating, 2),
            "n": reviews["reviews"],
            "source": "review scores",
        }


def _add_pain_points(kr: Context, phases: list[PhaseSummary], cut: Cut) -> None:
    pains = _optional("pain_points", kr, persona=cut.persona)
    if not pains:
        return
    if isinstance(pains, dict):
        by_phase = pains
    else:
        by_phase = {}
        for item in pains:
            item = item if isinstance(item, dict) else asdict(item)
            by_phase.setdefault(item.get("phase"), []).append(item)
    for phase in phases:
        phase.pain_points = list(by_phase.get(phase.id, []))[:5]
