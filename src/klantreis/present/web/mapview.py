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

LANES = ("do", "touchpoints", "volume", "time", "emotion", "pains", "opportunities")


@dataclass
class Named:
    label: str
    value: float | None = None
    direct: bool | None = None
    quote: str | None = None


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
            items.append(Named(str(label), _first(entry, *value_keys, "value", "count"),
                               None if direct is None else bool(direct)))
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
                        str(_first(p, "label", "title", "expectation", "topic", "name")),
                        _first(p, "persons", "size", "breaches", "count"),
                        quote=_first(p, "quote", "example_quote", "text"),
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
    by_phase = {p.id: p for p in jm.phases}
    for item in value.get("opportunities") or []:
        item = _as_dict(item)
        label = _first(item, "label", "title", "opportunity", "pain_point", "name")
        column = by_phase.get(str(item.get("phase")))
        named = Named(str(label), _first(item, "effect", "impact", "score", "persons"))
        if column is not None:
            column.opportunities.append(named)
        else:
            jm.opportunities.append(named)
    return jm


# -- layout ------------------------------------------------------------------------------------
LABEL_W = 150
COL_W = 210
HEAD_H = 44
LANE_H = {"do": 96, "touchpoints": 112, "volume": 84, "time": 40, "emotion": 110,
          "pains": 196, "opportunities": 86}


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
        points.append((round(x, 1), round(emotion_top + emotion_h * (1 - score) / 2, 1),
                       score))
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
