"""The journey map as the page, the SVG, the PNG and the PDF all draw it.

The analyses return tables; this module gathers them into one `JourneyMap` (one column per
phase, one lane per question) and lays it out as SVG on the server. Drawing it once, as SVG,
is what makes the exports look exactly like the page: the page inlines the same SVG that the
SVG download is and that headless Chromium turns into PNG and PDF.
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from klantreis.present.web.board import Board
from klantreis.present.web.i18n import Lang
from klantreis.store.query import Query

OUTCOMES = {"review_score": "review score", "repeat_purchase": "repeat purchase", "nps": "NPS"}
"""English names of the outcomes opportunities are measured against (translated in the map)."""

LANES = ("do", "touchpoints", "volume", "time", "emotion", "pains", "opportunities")


@dataclass
class Named:
    label: str
    value: float | None = None
    direct: bool | None = None
    quote: str | None = None
    topic: bool = False
    key: str | None = None
    """The expectation id of a breach pain point (to find a quote of an affected person)."""


@dataclass
class PhaseColumn:
    id: str
    label: str
    persons: int | None = None
    journeys: int | None = None
    conversion: float | None = None
    median_seconds: float | None = None
    emotion: float | None = None
    """-1 (negative) .. +1 (positive), or None when nobody said anything in this phase."""
    emotion_source: str | None = None
    events: list[Named] = field(default_factory=list)
    touchpoints: list[Named] = field(default_factory=list)
    channels: list[Named] = field(default_factory=list)
    pains: list[Named] = field(default_factory=list)
    opportunities: list[Named] = field(default_factory=list)


@dataclass
class JourneyMap:
    definition: str
    phases: list[PhaseColumn]
    definition_label: str = ""
    totals: dict[str, Any] = field(default_factory=dict)
    opportunities: list[Named] = field(default_factory=list)
    """Opportunities that belong to no single phase."""
    missing: list[str] = field(default_factory=list)
    """Names of analyses that are not installed, shown on the map instead of invented data."""
    errors: list[str] = field(default_factory=list)


def _first(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


def _named_list(
    value: Any, label_keys: tuple[str, ...], value_keys: tuple[str, ...]
) -> list[Named]:
    """A list lane from a list of structs / dicts / strings, or a {name: count} mapping."""
    if isinstance(value, dict):
        value = [{"label": k, "value": v} for k, v in value.items()]
    items: list[Named] = []
    for entry in value or []:
        if isinstance(entry, dict):
            label = _first(entry, *label_keys, "label", "name")
            if label is None:
                continue
            direct = entry.get("direct")
            items.append(
                Named(
                    str(label),
                    _first(entry, *value_keys, "value", "count"),
                    None if direct is None else bool(direct),
                )
            )
        elif entry is not None:
            items.append(Named(str(entry)))
    return items


def _as_dict(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value if isinstance(value, dict) else {}


def _emotion(value: Any) -> tuple[float | None, str | None]:
    """(-1..+1 value, source) from the map's emotion entry."""
    if isinstance(value, dict):
        raw = value.get("value")
        return (None if raw is None else float(raw)), value.get("source")
    if isinstance(value, (int, float)):
        return float(value), None
    return None, None


def columns_from_journey_map(phases: list[dict[str, Any]]) -> list[PhaseColumn]:
    """One column per phase of the `journey_map` analysis (measure/journey_map.py)."""
    columns = []
    for row in phases:
        phase_id = str(_first(row, "id", "phase"))
        emotion, source = _emotion(row.get("emotion"))
        pains = [_as_dict(p) for p in row.get("pain_points") or []]
        columns.append(
            PhaseColumn(
                id=phase_id,
                label=str(_first(row, "label") or phase_id.capitalize()),
                persons=_first(row, "persons"),
                journeys=_first(row, "journeys"),
                conversion=_first(row, "conversion_to_next"),
                median_seconds=_first(row, "median_time_seconds", "median_seconds"),
                emotion=emotion,
                emotion_source=source,
                events=_named_list(row.get("top_events"), ("event",), ("persons",)),
                touchpoints=_named_list(row.get("touchpoints"), ("touchpoint",), ("persons",)),
                channels=_named_list(row.get("channels"), ("channel",), ("persons",)),
                pains=[
                    Named(
                        str(_first(p, "title", "label", "expectation_id", "topic", "name")),
                        _first(p, "size", "persons", "breaches", "count"),
                        quote=_first(p, "quote", "example_quote", "text"),
                        key=_first(p, "expectation_id"),
                    )
                    for p in pains
                ],
            )
        )
    return columns


def build_map(board: Board, lang: Lang, **params: Any) -> JourneyMap:
    """Ask the `journey_map` analysis (which itself gathers emotion and pain points)."""
    result = board.run("journey_map", language=lang.code, **params)
    jm = JourneyMap(definition=str(params.get("definition") or "six-phase"), phases=[])
    if not result.available:
        jm.missing.append("journey_map")
        return jm
    for name in ("emotion_by_phase", "pain_points", "opportunities"):
        if not board.has(name):
            jm.missing.append(name)
    if result.error:
        jm.errors.append(result.error)
        return jm
    value = _as_dict(result.value)
    jm.definition = str(value.get("definition") or jm.definition)
    jm.definition_label = str(value.get("definition_label") or jm.definition)
    jm.totals = dict(value.get("totals") or {})
    jm.phases = columns_from_journey_map([_as_dict(p) for p in value.get("phases") or []])
    _quote_breaches(board, jm)
    voice_rows = _add_topics(board, jm, params)
    by_phase = {p.id: p for p in jm.phases}
    for item in value.get("opportunities") or []:
        item = _as_dict(item)
        label = _first(item, "title", "label", "opportunity", "name")
        phase = item.get("phase") or _opportunity_phase(board, jm, item, voice_rows)
        outcome = str(item.get("outcome") or "")
        named = Named(
            str(label),
            _first(item, "effect", "impact", "persons"),
            key=OUTCOMES.get(outcome, outcome) or None,
        )
        column = by_phase.get(str(phase))
        if column is not None:
            column.opportunities.append(named)
        else:
            jm.opportunities.append(named)
    return jm


def _opportunity_phase(
    board: Board, jm: JourneyMap, item: dict[str, Any], voice_rows: list[dict[str, Any]]
) -> str | None:
    """Where an opportunity belongs: its expectation's, topic's or touchpoint's phase."""
    kind, driver = item.get("kind"), item.get("driver")
    if kind == "expectation":
        for phase in jm.phases:
            if any(p.key == driver for p in phase.pains):
                return phase.id
        if board.has_table("breaches"):
            found = board.store.engine.scalar(
                Query(
                    "SELECT phase FROM breaches WHERE expectation_id = :e GROUP BY phase "
                    "ORDER BY count(*) DESC LIMIT 1",
                    e=driver,
                )
            )
            return None if found is None else str(found)
    if kind == "topic":
        rows = [r for r in voice_rows if r.get("topic") == driver]
        if rows:
            return str(max(rows, key=lambda r: r.get("texts") or 0).get("phase"))
    if kind == "touchpoint":
        best = max(
            (
                (t.value or 0, phase.id)
                for phase in jm.phases
                for t in phase.touchpoints
                if t.label == driver
            ),
            default=None,
        )
        return None if best is None else best[1]
    return None


_BREACH_QUOTE = """
SELECT coalesce(je.properties ->> '$.text', je.properties ->> '$.comment',
                je.properties ->> '$.review_body', je.properties ->> '$.message_body') AS text
FROM journey_events AS je
JOIN breaches AS b ON b.person_id = je.person_id AND b.expectation_id = :expectation
WHERE je.event IN ('Review Submitted', 'Product Reviewed', 'Survey Answered', 'Ticket Created',
                   'Live Chat Message Sent')
  AND length(coalesce(je.properties ->> '$.text', je.properties ->> '$.comment',
                      je.properties ->> '$.review_body',
                      je.properties ->> '$.message_body')) >= 20
ORDER BY (je.properties ->> '$.order_id' = b.order_id) DESC NULLS LAST,
         TRY_CAST(je.properties ->> '$.rating' AS DOUBLE) NULLS LAST,
         abs(date_diff('second', je.timestamp, b.breached_at)), je.message_id
LIMIT 1
"""


def _quote_breaches(board: Board, jm: JourneyMap) -> None:
    """A real quote for each breach pain point: what an affected customer wrote, preferably
    about the very order, the lowest rating first, closest in time to the breach."""
    if not (board.has_table("breaches") and board.has_table("journey_events")):
        return
    for phase in jm.phases:
        for pain in phase.pains:
            if pain.key and not pain.quote:
                pain.quote = board.store.engine.scalar(Query(_BREACH_QUOTE, expectation=pain.key))


def _add_topics(board: Board, jm: JourneyMap, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Negative topics per phase from the voice analysis, sized by their negative texts."""
    voice = board.run("voice", **{k: params.get(k) for k in ("start", "end", "persona")})
    if not voice.ok:
        return []
    by_phase = {p.id: p for p in jm.phases}
    ranked = sorted(
        voice.rows, key=lambda r: -(r.get("texts") or 0) * (r.get("negative_share") or 0)
    )
    for row in ranked:
        column = by_phase.get(str(row.get("phase")))
        if column is None or (row.get("negative_share") or 0) < 0.5:
            continue
        if sum(1 for p in column.pains if p.key is None) >= 1:
            continue
        negative = [q for q in row.get("quotes") or [] if q.get("label") == "negative"]
        column.pains.append(
            Named(
                str(row.get("topic")),
                round((row.get("texts") or 0) * (row.get("negative_share") or 0)),
                quote=negative[0]["text"] if negative else None,
                topic=True,
            )
        )
    return voice.rows


# -- layout ------------------------------------------------------------------------------------
LABEL_W = 150
COL_W = 210
HEAD_H = 44
LANE_H = {
    "do": 96,
    "touchpoints": 112,
    "volume": 84,
    "time": 40,
    "emotion": 110,
    "pains": 250,
    "opportunities": 96,
}


def wrap(text: str | None, width: int, lines: int) -> list[str]:
    """Word-wrap for SVG text (SVG 1.1 has no text flow), cut with an ellipsis."""
    if not text:
        return []
    wrapped = textwrap.wrap(" ".join(str(text).split()), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(0, width - 1)] + "…"
    return wrapped


def layout(jm: JourneyMap) -> dict[str, Any]:
    """Coordinates the SVG template needs: lane tops, column lefts, the emotion curve."""
    tops: dict[str, int] = {}
    y = HEAD_H
    for lane in LANES:
        tops[lane] = y
        y += LANE_H[lane]
    width = LABEL_W + COL_W * max(1, len(jm.phases))
    max_persons = max([p.persons or 0 for p in jm.phases] + [1])
    emotion_top = tops["emotion"] + 18
    emotion_h = LANE_H["emotion"] - 30
    points = []
    for i, phase in enumerate(jm.phases):
        if phase.emotion is None:
            continue
        x = LABEL_W + COL_W * i + COL_W / 2
        score = min(1.0, max(-1.0, float(phase.emotion)))
        points.append((round(x, 1), round(emotion_top + emotion_h * (1 - score) / 2, 1), score))
    return {
        "width": width,
        "height": y + 8,
        "tops": tops,
        "lane_h": LANE_H,
        "label_w": LABEL_W,
        "col_w": COL_W,
        "max_persons": max_persons,
        "emotion_points": points,
        "emotion_mid": emotion_top + emotion_h / 2,
        "emotion_top": emotion_top,
        "emotion_h": emotion_h,
    }
