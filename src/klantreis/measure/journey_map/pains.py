"""Pain points of the journey map and the customer's own words under each.

A quote under a pain must be a text in which the customer speaks about *that* pain:
- for a breached expectation, a negative text (or a review of one or two stars) whose main
  topic (the first the voice module found) is one of the rule's `topics`, written in the
  journey of a breach of it (and about the same order when both name one), no earlier than the
  case began; a text naming the very order before one that does not, then the most negative;
- for a negative voice topic, the most negative text whose main topic it is.
A question ("Kan ik met een factuur betalen?") asks; it does not tell what went wrong, so it is
never a quote (unless it comes with a review of one or two stars).
A review of one or two stars counts as negative whatever its words' sentiment: the customer
said so outright.
Where no such text exists the pain point has no quote; it never borrows an unrelated one.

Voice topics carry the phase they are about in the six-phase definition; under another
definition a topic goes to the phase that holds most of that six-phase phase's events.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map.result import PainPoint, PhaseSummary, Quote
from klantreis.model.definition import JourneyDefinition, load_definition
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.measure.expectations.analyses import PainPoints
    from klantreis.model.context import Context

PAINS_PER_PHASE = 5
MIN_NEGATIVE_SHARE = 0.5
"""A topic is a pain point of a phase when at least half of its texts there are negative."""
QUOTE_LENGTH = (15, 400)
QUOTE_CANDIDATES = 5

_BREACH_QUOTES = """
WITH b AS (
    SELECT expectation_id, phase, journey_id, order_id, started_at FROM breaches WHERE :cut
),
t AS (
    SELECT v.message_id, v.text, v.sentiment, v.event, v.order_id, v.timestamp,
           split_part(v.topics, ',', 1) AS topic, j.journey_id
    FROM voice AS v
    JOIN journey_events AS j ON j.message_id = v.message_id
    WHERE (v.label = 'negative' OR v.rating <= 2)
      AND length(v.text) BETWEEN :shortest AND :longest
      AND NOT (rtrim(v.text) LIKE '%?' AND coalesce(v.rating, 3) > 2)
),
matched AS (
    SELECT b.expectation_id, b.phase, t.message_id, t.text, t.sentiment, t.event, t.topic,
           t.order_id, t.journey_id, t.timestamp,
           CASE WHEN t.order_id = b.order_id THEN 0 ELSE 1 END AS order_rank
    FROM b JOIN t ON t.journey_id = b.journey_id
    WHERE b.expectation_id || '|' || t.topic IN :pairs
      AND t.timestamp >= b.started_at
      AND (b.order_id IS NULL OR t.order_id IS NULL OR t.order_id = b.order_id)
)
SELECT * FROM (
    SELECT *, row_number() OVER (
        PARTITION BY expectation_id, phase
        ORDER BY order_rank, sentiment, timestamp DESC, message_id) AS n
    FROM matched
) AS ranked WHERE n <= :candidates
ORDER BY expectation_id, phase, n
"""

_TOPICS = """
WITH t AS (
    SELECT * FROM (
        SELECT v.message_id, v.text, v.sentiment, v.event, v.order_id, vt.topic,
               CASE WHEN v.rating <= 2 THEN 'negative' ELSE v.label END AS label,
               split_part(v.topics, ',', 1) AS main_topic, vt.phase AS topic_phase,
               j.journey_id, j.person_id, j.timestamp
        FROM voice AS v
        JOIN voice_topics AS vt ON vt.message_id = v.message_id
        JOIN journey_events AS j ON j.message_id = v.message_id
    ) AS texts WHERE :cut
),
s AS (
    SELECT topic, topic_phase, count(DISTINCT message_id) AS texts,
           count(DISTINCT CASE WHEN label = 'negative' THEN message_id END) AS negative
    FROM t GROUP BY topic, topic_phase
),
q AS (
    SELECT * FROM (
        SELECT topic, topic_phase, message_id, text, sentiment, event, order_id, journey_id,
               row_number() OVER (PARTITION BY topic, topic_phase
                                  ORDER BY sentiment, timestamp DESC, message_id) AS n
        FROM t
        WHERE label = 'negative' AND main_topic = topic
          AND length(text) BETWEEN :shortest AND :longest
          AND NOT rtrim(text) LIKE '%?'
    ) AS ranked WHERE n = 1
)
SELECT s.topic, s.topic_phase, s.texts, s.negative, q.message_id, q.text, q.sentiment, q.event,
       q.order_id, q.journey_id
FROM s LEFT JOIN q ON q.topic = s.topic AND q.topic_phase = s.topic_phase
ORDER BY s.negative DESC, s.topic
"""


def translate_phase(phase: str | None, definition: JourneyDefinition) -> str | None:
    """A six-phase id in `definition`: itself if the definition has it, else the phase that
    holds most of that six-phase phase's events."""
    if phase is None or phase in definition.phase_ids:
        return phase
    six = load_definition("six-phase")
    spec = next((p for p in six.phases if p.id == phase), None)
    if spec is None:
        return None
    votes = Counter(definition.phase_of(name) for name in spec.events)
    votes.pop(None, None)
    return votes.most_common(1)[0][0] if votes else None


def expectation_pains(pains: PainPoints, phases: list[PhaseSummary]) -> None:
    """Breached expectations (the `pain_points` analysis) into their phases."""
    by_id = {p.id: p for p in phases}
    for phase_id, rows in pains.phases.items():
        phase = by_id.get(phase_id)
        if phase is None:
            continue
        for row in rows[:PAINS_PER_PHASE]:
            phase.pain_points.append(
                PainPoint(
                    kind="expectation",
                    key=row.expectation_id,
                    title=row.title or row.expectation_id,
                    size=row.persons,
                    category=row.category,
                    topics=list(row.topics),
                    titles=dict(row.titles),
                    cases=row.cases,
                    breaches=row.breaches,
                    breach_rate=row.breach_rate,
                )
            )


def _has_voice(kr: Context) -> bool:
    return all(kr.engine.has_table(t) for t in ("voice", "voice_topics", "journey_events"))


def quote_breaches(kr: Context, phases: list[PhaseSummary], cut: Any) -> None:
    """Give each expectation pain the most telling text about it from an affected journey."""
    pairs = {
        (pain.key, topic)
        for phase in phases
        for pain in phase.pain_points
        if pain.kind == "expectation"
        for topic in pain.topics
    }
    if not pairs or not _has_voice(kr) or not kr.engine.has_table("breaches"):
        return
    query = Query(
        _BREACH_QUOTES,
        cut=cut,
        pairs=sorted(f"{e}|{t}" for e, t in pairs),
        candidates=QUOTE_CANDIDATES,
        shortest=QUOTE_LENGTH[0],
        longest=QUOTE_LENGTH[1],
    )
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in kr.engine.rows(query):
        found.setdefault((row["expectation_id"], row["phase"]), []).append(row)
    used: set[str] = set()
    for phase in phases:
        for pain in phase.pain_points:
            # the biggest pain first; one text is not quoted under two pains
            rows = [r for r in found.get((pain.key, phase.id), []) if r["message_id"] not in used]
            if pain.kind == "expectation" and rows:
                pain.quote = _quote(rows[0])
                used.add(rows[0]["message_id"])


SEARCH_PAINS = frozenset({"search_finds"})
"""Expectations about searches that find nothing: their pain names the terms that failed."""
FAILING_TERMS_SHOWN = 3


def name_failing_terms(kr: Context, phases: list[PhaseSummary], cut: Any) -> None:
    """Under a pain about searches finding nothing, the terms that found nothing most often in
    the cut: what customers typed is the closest thing to their own words about it."""
    pains = [p for phase in phases for p in phase.pain_points if p.key in SEARCH_PAINS]
    if not pains or not kr.engine.has_table("journey_events"):
        return
    from klantreis.measure.search import failing_terms

    terms = failing_terms(kr.engine, cut, FAILING_TERMS_SHOWN)
    for pain in pains:
        pain.failing_terms = [
            {"term": str(t["term"]), "searches": int(t["searches"])} for t in terms
        ]


def _quote(row: dict[str, Any]) -> Quote:
    return Quote(
        text=str(row["text"]),
        message_id=str(row["message_id"]),
        event=row.get("event"),
        topic=row.get("topic"),
        order_id=row.get("order_id"),
        journey_id=row.get("journey_id"),
        sentiment=None if row.get("sentiment") is None else round(float(row["sentiment"]), 3),
    )


def topic_pains(
    kr: Context, phases: list[PhaseSummary], cut: Any, definition: JourneyDefinition
) -> dict[str, str]:
    """The most negative voice topic of each phase as a pain point (with a quote on it), unless
    a breached expectation there already speaks of that topic. Returns topic → phase."""
    if not _has_voice(kr):
        return {}
    rows = kr.engine.rows(
        Query(_TOPICS, cut=cut, shortest=QUOTE_LENGTH[0], longest=QUOTE_LENGTH[1])
    )
    by_id = {p.id: p for p in phases}
    placed: dict[str, str] = {}
    best_texts: dict[str, int] = {}
    for row in rows:
        phase_id = translate_phase(row["topic_phase"], definition)
        topic = str(row["topic"])
        if phase_id is None or phase_id not in by_id:
            continue
        if row["texts"] > best_texts.get(topic, -1):
            placed[topic], best_texts[topic] = phase_id, row["texts"]
        phase = by_id[phase_id]
        covered = {t for p in phase.pain_points for t in p.topics}
        if (
            not row["texts"]
            or row["negative"] / row["texts"] < MIN_NEGATIVE_SHARE
            or topic in covered
            or any(p.kind == "topic" for p in phase.pain_points)
        ):
            continue
        phase.pain_points.append(
            PainPoint(
                kind="topic",
                key=topic,
                title=topic,
                size=int(row["negative"]),
                topics=[topic],
                texts=int(row["texts"]),
                negative_share=round(row["negative"] / row["texts"], 4),
                quote=_quote({**row, "topic": topic}) if row.get("text") else None,
            )
        )
    return placed
