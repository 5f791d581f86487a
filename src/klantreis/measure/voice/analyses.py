"""Analyses over the scored voice: topic volume, sentiment and trend with quotes; emotion per
phase for the journey map's emotion curve.

Each text counts once per topic it mentions, under the phase that topic is about; a text without
a topic counts as `other` under the journey phase it was written in (from `journey_events`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import Field

from klantreis.errors import KlantreisError
from klantreis.measure.contract import AnalysisResult, CutQuery
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.measure.result import Result
from klantreis.measure.voice.stored import ensure_voice_tables, unscored_texts, update_voice
from klantreis.measure.voice.topics import PHASE_OF_TOPIC, TOPICS
from klantreis.model.as_built import reading_as_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

OTHER = "other"
TREND_DAYS = 90
QUOTES_PER_LABEL = 1
"""Quotes per label (negative, positive) and topic: the most typical one, i.e. the text whose
sentiment about the topic is closest to the mean of that label's texts on it."""


class VoiceQueryError(KlantreisError):
    """A filter value that names no topic or phase."""


_WITH_JOURNEYS = """
WITH texts AS (
    SELECT v.message_id, v.event, v.timestamp, coalesce(t.sentiment, v.sentiment) AS sentiment,
           coalesce(t.label, v.label) AS label, v.rating, v.text,
           v.language, v.order_id, v.survey_kind, v.survey_score, j.person_id, j.touchpoint,
           coalesce(t.topic, 'other') AS topic, coalesce(t.phase, j.phase) AS phase
    FROM voice AS v
    LEFT JOIN journey_events AS j ON j.message_id = v.message_id
    LEFT JOIN voice_topics AS t ON t.message_id = v.message_id
),
"""
_WITHOUT_JOURNEYS = """
WITH texts AS (
    SELECT v.message_id, v.event, v.timestamp, coalesce(t.sentiment, v.sentiment) AS sentiment,
           coalesce(t.label, v.label) AS label, v.rating, v.text,
           v.language, v.order_id, v.survey_kind, v.survey_score,
           CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS touchpoint,
           coalesce(t.topic, 'other') AS topic, t.phase AS phase
    FROM voice AS v
    LEFT JOIN voice_topics AS t ON t.message_id = v.message_id
),
"""
_FILTERED = """
f AS (
    SELECT * FROM texts
    WHERE :cut AND (:topic IS NULL OR topic = :topic) AND (:phase IS NULL OR phase = :phase)
)
"""
_SUMMARY = """,
ref AS (SELECT max(timestamp) AS latest FROM f)
SELECT topic, phase,
       count(DISTINCT message_id) AS texts,
       avg(sentiment) AS sentiment,
       avg(CASE WHEN label = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share,
       avg(CASE WHEN label = 'positive' THEN 1.0 ELSE 0.0 END) AS positive_share,
       avg(rating) AS mean_rating,
       count(DISTINCT CASE WHEN timestamp > latest - INTERVAL 90 DAY THEN message_id END)
           AS recent_texts,
       avg(CASE WHEN timestamp > latest - INTERVAL 90 DAY THEN sentiment END)
           AS recent_sentiment,
       avg(CASE WHEN timestamp <= latest - INTERVAL 90 DAY
                 AND timestamp > latest - INTERVAL 180 DAY THEN sentiment END)
           AS previous_sentiment
FROM f CROSS JOIN ref
GROUP BY topic, phase
ORDER BY texts DESC, topic
"""
# labels are counted before short and long texts are left out, as the row's shares are: the
# more common label's quote comes first
_QUOTES = """,
labelled AS (
    SELECT topic, phase, text, sentiment, label, event, timestamp,
           count(*) OVER (PARTITION BY topic, phase, label) AS label_texts
    FROM f
    WHERE label IN ('negative', 'positive')
),
candidates AS (
    SELECT *,
           abs(sentiment - avg(sentiment) OVER (PARTITION BY topic, phase, label)) AS distance
    FROM labelled
    WHERE length(text) BETWEEN 15 AND 300
),
ranked AS (
    SELECT *, row_number() OVER (
               PARTITION BY topic, phase, label ORDER BY distance, timestamp DESC, text) AS rank
    FROM candidates
)
SELECT topic, phase, text, sentiment, label, event, timestamp FROM ranked
WHERE rank <= :per_label
ORDER BY topic, phase, label_texts DESC, label, rank
"""
_EMOTION = """
WITH signals AS (
    SELECT j.message_id, j.phase AS written_phase, j.person_id, j.timestamp, v.sentiment,
           CASE WHEN j.event IN ('Review Submitted', 'Product Reviewed')
                THEN TRY_CAST(json_extract_string(j.properties, '$.rating') AS DOUBLE)
           END AS rating
    FROM journey_events AS j
    LEFT JOIN voice AS v ON v.message_id = j.message_id
    WHERE v.message_id IS NOT NULL OR j.event IN ('Review Submitted', 'Product Reviewed')
),
valued AS (
    SELECT *,
           CASE WHEN rating BETWEEN 1 AND 5 THEN (rating - 3) / 2
                WHEN rating BETWEEN 0 AND 10 THEN (rating - 5) / 5
                ELSE sentiment END AS value
    FROM signals
),
placed AS (
    SELECT message_id, written_phase AS phase, value, rating, timestamp, person_id
    FROM valued WHERE value IS NOT NULL
    UNION
    SELECT s.message_id, t.phase, s.value, s.rating, s.timestamp, s.person_id
    FROM valued AS s JOIN voice_topics AS t ON t.message_id = s.message_id
    WHERE s.value IS NOT NULL
)
SELECT phase,
       count(DISTINCT message_id) AS texts,
       avg(value) AS sentiment,
       avg(rating) AS mean_rating,
       count(rating) AS ratings
FROM placed
WHERE phase IS NOT NULL AND :cut
GROUP BY phase
"""


def prepare(kr: Context, *, score: bool = True) -> None:
    """Bring the model up to date when the store can be written, and the scored voice too
    when asked (`score=False`: only make sure the voice tables exist, to read what is
    scored)."""
    if kr.store.read_only:
        return
    from klantreis.model import ensure_built

    if kr.engine.capabilities.writable:
        ensure_built(kr)
    if score:
        update_voice(kr.store, kr.engine)
    else:
        ensure_voice_tables(kr.store, kr.engine)


def _validate(topic: str | None, phase: str | None) -> None:
    if topic is not None and topic not in (*TOPICS, OTHER):
        raise VoiceQueryError(
            f"{topic!r} is not one of: {', '.join((*TOPICS, OTHER))}", field="topic"
        )
    if phase is not None and not phase.strip():
        raise VoiceQueryError("must not be empty", field="phase")


def _query(
    kr: Context, tail: str, cut: Cut, topic: str | None, phase: str | None, **params: Any
) -> pa.Table:
    journeys = kr.engine.has_table("journey_events")
    head = _WITH_JOURNEYS if journeys else _WITHOUT_JOURNEYS
    return kr.engine.fetch(
        Query(
            head + _FILTERED + tail,
            cut=cut.condition(kr.engine),
            topic=topic,
            phase=phase,
            **params,
        )
    )


class VoiceQuery(CutQuery):
    """`kr.voice(...)`, `klantreis voice`, `GET /api/voice`."""

    topic: str | None = Field(None, description=f"Only this topic ({', '.join(TOPICS)}, {OTHER}).")
    phase: str | None = Field(None, description="Only topics of this journey phase.")


class EmotionQuery(CutQuery):
    """`kr.emotion_by_phase(...)`, `GET /api/voice/emotion`."""


@analysis("voice", query=VoiceQuery, result=Result)
def voice(
    kr: Context,
    *,
    topic: str | None = None,
    phase: str | None = None,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> Result:
    """Per topic: texts, mean sentiment, shares, mean rating, trend and representative quotes.

    A topic's sentiment is that of the clauses about it (`voice_topics.sentiment`), so a
    review praising the product and cursing the delivery counts as negative for delivery.
    Quotes: the most typical negative and the most typical positive text of the row (a topic
    in a phase: `other` has a row per phase), labelled, the more common label first.

    `trend` is the mean sentiment of the last 90 days minus that of the 90 days before them
    (counted back from the newest text), None when either window is empty.

    `unscored_texts` in the meta: customer texts in the store (of every persona and time)
    that are not scored yet, so that no row counts or quotes them (`waiting_texts`).
    """
    from klantreis.measure.result import Result

    _validate(topic, phase)
    scoring = not reading_as_built()  # a page reads; the routine scores
    prepare(kr, score=scoring)
    cut = Cut.parse(start, end, persona)
    summary = _query(kr, _SUMMARY, cut, topic, phase).to_pylist()
    quotes = _query(kr, _QUOTES, cut, topic, phase, per_label=QUOTES_PER_LABEL).to_pylist()
    # a row is a topic in a phase (`other` has one per phase): its quotes come from that row
    by_row: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for quote in quotes:
        by_row.setdefault((quote.pop("topic"), quote.pop("phase")), []).append(quote)
    rows = []
    for row in summary:
        recent, previous = row.pop("recent_sentiment"), row.pop("previous_sentiment")
        row["trend"] = None if recent is None or previous is None else recent - previous
        row["quotes"] = by_row.get((row["topic"], row["phase"]), [])
        rows.append(row)
    schema = pa.schema(
        [
            ("topic", pa.string()),
            ("phase", pa.string()),
            ("texts", pa.int64()),
            ("sentiment", pa.float64()),
            ("negative_share", pa.float64()),
            ("positive_share", pa.float64()),
            ("mean_rating", pa.float64()),
            ("recent_texts", pa.int64()),
            ("trend", pa.float64()),
            (
                "quotes",
                pa.list_(
                    pa.struct(
                        [
                            ("text", pa.string()),
                            ("sentiment", pa.float64()),
                            ("label", pa.string()),
                            ("event", pa.string()),
                            ("timestamp", pa.timestamp("us")),
                        ]
                    )
                ),
            ),
        ]
    )
    return Result(
        pa.Table.from_pylist(rows, schema=schema),
        {
            "topic": topic,
            "phase": phase,
            "trend_days": TREND_DAYS,
            "unscored_texts": waiting_texts(kr, scored=scoring),
        },
    )


def waiting_texts(kr: Context, *, scored: bool) -> int | None:
    """Customer texts stored but not scored, which the voice's rows leave out: 0 when this
    read scored them itself (`prepare`), else the count `unscored_texts` keeps in `meta`
    (read back while the events and the scores are unchanged; the map asks for the same
    one). None where no count is kept (a store opened read-only, an engine that is not
    written to, as a lake's): counting there would read every text event each time."""
    writable = kr.engine.capabilities.writable and not kr.store.read_only
    if not writable:
        return None
    if scored:
        return 0
    return unscored_texts(kr.store, kr.engine)


class PhaseEmotion(AnalysisResult):
    """How customers feel in one phase, from what they wrote there or about it."""

    value: float
    """Mean emotion, -1 (negative) .. +1 (positive)."""
    n: int
    """Texts it rests on."""
    mean_rating: float | None
    """Mean review score (1-5) of the rated reviews among them."""
    ratings: int
    source: str = "voice"


class EmotionByPhase(AnalysisResult):
    """The emotion curve: phase → `PhaseEmotion` (phases nobody wrote about are absent).
    `as_json()` is the mapping itself, as `GET /api/voice/emotion` answers."""

    phases: dict[str, PhaseEmotion]

    def as_json(self) -> Any:
        return {phase: emotion.as_json() for phase, emotion in self.phases.items()}


@analysis("emotion_by_phase", query=EmotionQuery, result=EmotionByPhase)
def emotion_by_phase(
    kr: Context,
    *,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> EmotionByPhase:
    """Phase → emotion (`value`, -1..+1), signals, mean review score: the emotion curve.

    A rated review speaks through its rating ((rating - 3) / 2), since the customer said it
    outright; other texts through their sentiment. Each counts in the phase it was written in
    (reviews: evaluation) and in the phases its topics are about (a late-delivery review also
    pulls down service).

    It reads the stored scores and scores nothing itself: scoring is `update_voice`'s job
    (`klantreis voice update`, the demo, the server's routine), which would otherwise run
    inside every journey map that asks for the emotion curve (`unscored_texts` says how
    many texts are still waiting).
    """
    prepare(kr, score=False)
    if not kr.engine.has_table("journey_events") or not kr.engine.has_table("voice"):
        return EmotionByPhase(phases={})
    cut = Cut.parse(start, end, persona)
    table = kr.engine.fetch(Query(_EMOTION, cut=cut.condition(kr.engine)))
    return EmotionByPhase(
        phases={
            row["phase"]: PhaseEmotion(
                value=round(float(row["sentiment"]), 3),
                n=int(row["texts"]),
                mean_rating=None if row["mean_rating"] is None else round(row["mean_rating"], 2),
                ratings=int(row["ratings"]),
            )
            for row in table.to_pylist()
        }
    )


__all__ = [
    "PHASE_OF_TOPIC",
    "EmotionByPhase",
    "PhaseEmotion",
    "VoiceQueryError",
    "emotion_by_phase",
    "voice",
]
