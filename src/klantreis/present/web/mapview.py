"""The journey map drawn: one SVG for the page, the SVG/PNG/PDF downloads and the HTML file the
CLI writes.

Everything the map says is decided by the `journey_map` analysis (measure/journey_map/); this
module only lays its result out in columns (one per phase) and lanes (one per question) and
draws it. Drawing it once, as SVG, is what makes every export look exactly like the page.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from klantreis.measure.journey_map import JourneyMap, Note, Opportunity, PainPoint
from klantreis.model.definition import DefinitionError, load_definition
from klantreis.present.web import terms
from klantreis.present.web.i18n import Lang

if TYPE_CHECKING:
    from klantreis.present.web.board import Board, Outcome

OUTCOMES = {
    "review_score": "review score",
    "repeat_purchase": "repeat purchase",
    "nps": "NPS",
    "conversion": "conversion",
    "customer_value": "customer value",
}
"""English names of the outcomes opportunities are measured against (translated in the map)."""

LANES = ("do", "sources", "touchpoints", "volume", "time", "emotion", "pains", "opportunities")
LANE_LABELS = {
    "do": "What customers do",
    "sources": "Came from",
    "touchpoints": "Touchpoints & channels",
    "volume": "Volume & conversion",
    "time": "Median time in phase",
    "emotion": "Emotion",
    "pains": "Pain points",
    "opportunities": "Opportunities",
}


def _(message: str) -> str:
    """Marks a text for translation where it is defined; it is translated when drawn."""
    return message


NOT_A_FUNNEL = _(
    "{phase} has more persons ({persons}) than {previous} ({previous_persons}): {without} of "
    "them reached it in a journey without {previous} (such as a service contact without an "
    "order), so persons per phase is not a funnel."
)
UNSCORED_TEXTS = _(
    "{texts} customer texts are not scored yet, so the emotion and the topics leave them out: "
    "run `klantreis voice update` (the server's routine does it every few minutes)."
)
UNSCORED_TEXT = _(
    "1 customer text is not scored yet, so the emotion and the topics leave it out: "
    "run `klantreis voice update` (the server's routine does it every few minutes)."
)
NOT_RANKED = _(
    "Opportunities are not ranked yet: run `klantreis opportunities` (the server's routine "
    "ranks them after each model refresh)."
)
RANKED_BEFORE = _(
    "The opportunities were ranked before the latest events: `klantreis opportunities` ranks "
    "them again (the server's routine does it after each model refresh)."
)
WHOLE_JOURNEY = _("For the whole journey:")


@dataclass
class Named:
    label: str
    value: float | None = None
    direct: bool | None = None
    quote: str | None = None
    topic: bool = False
    key: str | None = None
    """The outcome of an opportunity (English, translated when drawn)."""
    labels: dict[str, str] = field(default_factory=dict)
    """The label per language, when the analysis has it (expectation titles)."""
    unit: str | None = None
    """What an opportunity's `value` is counted in per order (stars, percentage points)."""
    per_journey: bool = False
    """The effect is per journey (conversion), not per order."""
    expectation: str | None = None
    """The expectation id of a pain point (None for a topic)."""
    terms: list[tuple[str, int]] = field(default_factory=list)
    """A search pain's terms that found nothing, with their searches (drawn like a quote)."""
    detail: str | None = None
    """`terms` as the reader's sentence, set when drawn (`failing_terms_sentence`)."""


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
    sources: list[Named] = field(default_factory=list)
    """Acquisition touchpoints (persons) of the first phases."""
    channels: list[Named] = field(default_factory=list)
    pains: list[Named] = field(default_factory=list)
    opportunities: list[Named] = field(default_factory=list)


@dataclass
class MapView:
    """A journey map in columns and lanes, with what could not be shown and why."""

    definition: str
    phases: list[PhaseColumn]
    definition_label: str = ""
    totals: dict[str, Any] = field(default_factory=dict)
    opportunities: list[Named] = field(default_factory=list)
    """Opportunities that belong to no single phase."""
    notes: list[Note] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Names of analyses that are not installed, shown on the map instead of invented data."""
    errors: list[str] = field(default_factory=list)
    recovery: list[dict[str, Any]] = field(default_factory=list)
    """Service recovery per expectation (`kr.recovery()`), a note on its pain point."""
    computed_at: datetime | None = None
    """When the stored uncut map shown was computed (None: computed for this request)."""


RECOVERY_NOTE = (
    "Acting on “{expectation}” came with a review score {difference} ({low} … {high}) "
    "against comparable customers left alone ({acted} acted on, {alone} left alone)."
)


def recovery_lines(view: MapView, lang: Lang) -> list[str]:
    """One sentence per pain point on the map whose breached customers were acted on."""
    on_map = {p.expectation for column in view.phases for p in column.pains if p.expectation}
    lines = []
    for row in view.recovery:
        review = row.get("review") or {}
        if row["expectation_id"] not in on_map or review.get("difference") is None:
            continue
        lines.append(
            lang.gettext(
                RECOVERY_NOTE,
                expectation=terms.term("expectation", row["expectation_id"], lang.code),
                difference=lang.signed(review["difference"]),
                low=lang.signed(review.get("low")),
                high=lang.signed(review.get("high")),
                acted=lang.num(row["acted"]),
                alone=lang.num(row["left_alone"]),
            )
        )
    return lines


def _pain(pain: PainPoint) -> Named:
    return Named(
        pain.title,
        pain.size,
        quote=pain.quote.text if pain.quote else None,
        topic=pain.kind == "topic",
        labels=dict(pain.titles),
        expectation=pain.key if pain.kind == "expectation" else None,
        terms=[(str(t["term"]), int(t["searches"])) for t in pain.failing_terms],
    )


FAILING_TERMS = _("Finds nothing: {terms}")


def failing_terms_sentence(terms: list[tuple[str, int]], lang: Lang) -> str | None:
    """`Finds nothing: “regnjas” (12), “sneakrs” (8)` in the reader's language."""
    if not terms:
        return None
    said = ", ".join(f"“{term}” ({lang.num(n)})" for term, n in terms)
    return lang.gettext(FAILING_TERMS, terms=said)


def _opportunity(item: Opportunity) -> Named:
    from klantreis.measure.opportunities import OUTCOMES as MEASURED

    outcome = str(item.outcome or "")
    spec = MEASURED.get(outcome)
    value = None if item.effect is None else item.effect * (spec.scale if spec else 1.0)
    # A customer-value effect's own unit names the currency ("EUR of expected revenue");
    # the map says the outcome's generic unit, which has a translation.
    own = None if outcome == "customer_value" else item.details.get("unit")
    unit = own or (spec.unit if spec else None)
    return Named(
        item.title,
        value,
        key=OUTCOMES.get(outcome, outcome) or None,
        unit=unit or None,
        per_journey=outcome == "conversion",
    )


def effect_text(lang: Lang, item: Named) -> str:
    """ "review score: −1.7 stars per order", in the reader's language."""
    outcome = lang.gettext(item.key or "outcome")
    digits = 1 if item.value is None or abs(item.value) >= 0.1 else 2
    effect = lang.signed(item.value, digits).replace("-", "−")
    if not item.unit:
        return f"{lang.gettext('effect on {outcome}:', outcome=outcome)} {effect}"
    message = (
        "{outcome}: {effect} {unit} per journey"
        if item.per_journey
        else "{outcome}: {effect} {unit} per order"
    )
    return lang.gettext(
        message,
        outcome=outcome,
        effect=effect,
        unit=lang.gettext(item.unit),
    )


def view_of(jm: JourneyMap) -> MapView:
    """The analysis' result in the columns and lanes the drawing needs."""
    return MapView(
        definition=jm.definition,
        definition_label=jm.definition_label,
        totals=dict(jm.totals),
        phases=[
            PhaseColumn(
                id=p.id,
                label=p.label,
                persons=p.persons,
                journeys=p.journeys,
                conversion=p.conversion_to_next,
                median_seconds=p.median_time_seconds,
                emotion=None if p.emotion is None else p.emotion.get("value"),
                emotion_source=None if p.emotion is None else p.emotion.get("source"),
                events=[Named(e["event"], e["persons"]) for e in p.top_events],
                touchpoints=[
                    Named(
                        t["touchpoint"],
                        t["persons"],
                        None if t["direct"] is None else bool(t["direct"]),
                    )
                    for t in p.touchpoints
                ],
                channels=[Named(c["channel"], c["persons"]) for c in p.channels],
                sources=[Named(x["touchpoint"], x["share"]) for x in p.sources],
                pains=[_pain(pain) for pain in p.pain_points],
                opportunities=[_opportunity(o) for o in p.opportunities],
            )
            for p in jm.phases
        ],
        opportunities=[_opportunity(o) for o in jm.opportunities],
        notes=list(jm.notes),
        missing=list(jm.missing),
        errors=[f"{e['analysis']}: {e['error']}" for e in jm.errors],
    )


def build_map(board: Board, **params: Any) -> MapView:
    """Ask the `journey_map` analysis; a missing or failing analysis is said, not faked."""
    return view_from(board.run("journey_map", **params), params)


def view_from(result: Outcome, params: dict[str, Any]) -> MapView:
    """The map's view of the `journey_map` analysis's outcome (computed or stored)."""
    empty = MapView(definition=str(params.get("definition") or "six-phase"), phases=[])
    if not result.available:
        empty.missing.append("journey_map")
        return empty
    if result.error:
        empty.errors.append(result.error)
        return empty
    return view_of(result.value)


# -- layout ------------------------------------------------------------------------------------
LABEL_W = 150
COL_W = 210
HEAD_H = 44
FOOT_LINE = 15
LANE_H = {
    "do": 96,
    "sources": 84,
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


PAINS_SHOWN = 3
"""Breached expectations drawn per phase (the biggest), plus its most negative topic."""


def shown_pains(column: PhaseColumn) -> list[Named]:
    expectations = [p for p in column.pains if not p.topic][:PAINS_SHOWN]
    return expectations + [p for p in column.pains if p.topic][:1]


def _pains_height(column: PhaseColumn) -> int:
    """The height the pain lane needs for this column (as the template draws it)."""
    height = 16
    for pain in shown_pains(column):
        label = f"Topic: {pain.label}" if pain.topic else pain.label
        quote = pain.quote and f"“{pain.quote}”"
        height += 13 * len(wrap(label, 30, 2)) + 13 * (pain.value is not None)
        height += 12 * len(wrap(quote, 36, 3)) + 12 * len(wrap(pain.detail, 36, 2)) + 8
    return height


RANKING_NOTES = {"opportunities_not_ranked": NOT_RANKED, "opportunities_stale": RANKED_BEFORE}


def unscored_sentence(texts: int, gettext: Any, num: Any = str) -> str:
    """The map's sentence on texts stored but not scored yet (singular for one)."""
    if texts == 1:
        return gettext(UNSCORED_TEXT)
    return gettext(UNSCORED_TEXTS, texts=num(texts))


def footer(view: MapView, lang: Lang) -> list[tuple[str, str]]:
    """(css class, line) under the lanes: the legend, the sentences figures need, and the
    opportunities that belong to the whole journey."""
    labels = {p.id: p.label for p in view.phases}
    lines = [
        (
            "muted",
            f"● {lang.gettext('direct touchpoint')}  ○ {lang.gettext('indirect touchpoint')}  · "
            + lang.gettext("emotion from what customers said: −1 negative … +1 positive"),
        )
    ]
    for note in view.notes:
        if note.kind == "not_a_funnel":
            lines.append(
                (
                    "note",
                    lang.gettext(
                        NOT_A_FUNNEL,
                        phase=labels.get(note.phase or "", note.phase or ""),
                        previous=labels.get(note.previous or "", note.previous or ""),
                        persons=lang.num(note.persons),
                        previous_persons=lang.num(note.previous_persons),
                        without=lang.num(note.persons_without_previous),
                    ),
                )
            )
        elif note.kind == "unscored_texts":
            lines.append(("note", unscored_sentence(note.texts or 0, lang.gettext, lang.num)))
        elif note.kind in RANKING_NOTES:
            lines.append(("note", lang.gettext(RANKING_NOTES[note.kind])))
    lines.extend(("note", line) for line in recovery_lines(view, lang))
    if view.opportunities:
        lines.append(("opp", lang.gettext(WHOLE_JOURNEY)))
        for o in view.opportunities:
            effect = "" if o.value is None else f" ({effect_text(lang, o)})"
            lines.append(("opp", f"• {terms.opportunity(o.label, lang.code)}{effect}"))
    width = max(60, (LABEL_W + COL_W * max(1, len(view.phases))) // 6)
    return [(css, part) for css, line in lines for part in textwrap.wrap(line, width) or [""]]


def layout(view: MapView, foot_lines: int = 0) -> dict[str, Any]:
    """Coordinates the SVG template needs: lane tops, column lefts, the emotion curve."""
    most = max([len(p.opportunities) for p in view.phases] + [0])
    heights = {
        **LANE_H,
        "pains": max([LANE_H["pains"]] + [_pains_height(p) for p in view.phases]),
        # each: a label of up to two lines, its effect of up to two (wrapped: "anmeldelsesscore:
        # −0,9 stjerner pr. ordre" is wider than a column), and a gap
        "opportunities": max(LANE_H["opportunities"], 18 + 60 * most),
    }
    tops: dict[str, int] = {}
    y = HEAD_H
    for lane in LANES:
        tops[lane] = y
        y += heights[lane]
    width = LABEL_W + COL_W * max(1, len(view.phases))
    max_persons = max([p.persons or 0 for p in view.phases] + [1])
    emotion_top = tops["emotion"] + 18
    emotion_h = LANE_H["emotion"] - 30
    points = []
    for i, phase in enumerate(view.phases):
        if phase.emotion is None:
            continue
        x = LABEL_W + COL_W * i + COL_W / 2
        score = min(1.0, max(-1.0, float(phase.emotion)))
        points.append((round(x, 1), round(emotion_top + emotion_h * (1 - score) / 2, 1), score))
    return {
        "width": width,
        "lanes_bottom": y,
        "height": y + 16 + FOOT_LINE * foot_lines,
        "tops": tops,
        "lane_h": heights,
        "label_w": LABEL_W,
        "col_w": COL_W,
        "foot_line": FOOT_LINE,
        "max_persons": max_persons,
        "emotion_points": points,
        "emotion_mid": emotion_top + emotion_h / 2,
        "emotion_top": emotion_top,
        "emotion_h": emotion_h,
    }


def draw(view: MapView, lang: Lang, title: str) -> tuple[str, dict[str, Any]]:
    """The map's SVG (autoescaped: customer text is text) and its layout."""
    from klantreis.present.web.context import templates

    try:
        definition = load_definition(view.definition)
        phases = [replace(p, label=definition.phase_label(p.id, lang.code)) for p in view.phases]
        view = replace(view, phases=phases)
    except DefinitionError:  # a definition file no longer there: keep the labels it gave
        pass
    phases = [
        replace(
            p,
            pains=[
                replace(
                    x,
                    label=x.labels.get(lang.code) or x.label,
                    detail=failing_terms_sentence(x.terms, lang),
                )
                for x in shown_pains(p)
            ],
        )
        for p in view.phases
    ]
    view = replace(view, phases=phases)
    lines = footer(view, lang)
    geo = layout(view, len(lines))
    svg = templates.get_template("map.svg").render(
        phases=phases,
        geo=geo,
        lanes=LANES,
        t=lang,
        _=lang.gettext,
        title=title,
        wrap=wrap,
        effect_text=effect_text,
        footer=lines,
        lane_labels={k: wrap(lang.gettext(v), 20, 2) for k, v in LANE_LABELS.items()},
    )
    return svg, geo
