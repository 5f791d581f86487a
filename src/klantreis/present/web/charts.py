"""Chart specs for the browser: plain JSON that static/app.js hands to ECharts.

The specs carry data only (labels, numbers); app.js turns them into ECharts options and
ECharts draws all text on a canvas with tooltips in rich-text mode, so customer text can never
become markup in a chart.
"""

from __future__ import annotations

from typing import Any

from klantreis.present.web.board import Outcome
from klantreis.present.web.i18n import Lang


def _pick(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


def funnel(rows: list[dict[str, Any]], steps: list[str], lang: Lang) -> dict[str, Any] | None:
    """Horizontal bars: persons reaching each step."""
    if not rows:
        return None
    categories, values = [], []
    for index, row in enumerate(rows):
        label = _pick(row, "name", "event", "step")
        categories.append(lang.term("event", label if label is not None else steps[index]))
        values.append(_pick(row, "persons", "count", "users", "entered") or 0)
    return {
        "kind": "bar",
        "categories": categories,
        "series": [{"name": lang.gettext("persons"), "data": values}],
    }


def phase_sankey(rows: list[dict[str, Any]], lang: Lang) -> dict[str, Any] | None:
    """Journeys flowing forward between phases (a Sankey must not loop, so steps back and
    staying put are left out; the table below the chart lists every transition)."""
    from klantreis.model.definition import load_definition

    definition = load_definition(None)
    order = {p: i for i, p in enumerate(definition.phase_ids)}
    links = []
    for row in rows:
        source, target = row.get("from_phase"), row.get("to_phase")
        value = row.get("journeys") or row.get("persons")
        if source in order and target in order and order[target] > order[source] and value:
            links.append(
                {
                    "source": definition.phase_label(source, lang.code),
                    "target": definition.phase_label(target, lang.code),
                    "value": value,
                }
            )
    if not links:
        return None
    names = [definition.phase_label(p, lang.code) for p in definition.phase_ids]
    used = {link["source"] for link in links} | {link["target"] for link in links}
    return {"kind": "sankey", "nodes": [{"name": n} for n in names if n in used], "links": links}


def _step_name(lang: Lang | None) -> Any:
    """A path step (a touchpoint, or the event of one that has none) in the reader's words."""
    from klantreis.present.web.terms import known

    if lang is None:
        return str
    return lambda key: lang.term("touchpoint" if known("touchpoint", key) else "event", key)


def path_sankey(paths: Any, lang: Lang | None = None, limit: int = 60) -> dict[str, Any] | None:
    """The first steps of sessions by touchpoint: node `2. search` is step 2 being search."""
    edges = getattr(paths, "edges", None)
    if edges is None:
        return None
    rows = sorted(edges.to_pylist(), key=lambda r: -(r.get("persons") or 0))[:limit]
    name = _step_name(lang)
    links = [
        {
            "source": f"{r['source_step']}. {name(r['source'])}",
            "target": f"{r['source_step'] + 1}. {name(r['target'])}",
            "value": r["persons"],
        }
        for r in rows
        if r.get("persons")
    ]
    if not links:
        return None
    names = sorted({link["source"] for link in links} | {link["target"] for link in links})
    return {"kind": "sankey", "nodes": [{"name": n} for n in names], "links": links}


def expectation_trends(scorecard: Any, lang: Lang) -> dict[str, Any] | None:
    """Breach rate per period of each expectation (the scorecard's trend points), in %."""
    data = scorecard.to_dict() if hasattr(scorecard, "to_dict") else scorecard
    items = [
        e for e in (data or {}).get("expectations", []) if (e.get("trend") or {}).get("points")
    ]
    if not items:
        return None
    periods = sorted({str(p["period"])[:7] for e in items for p in e["trend"]["points"]})
    series = []
    for item in items:
        by_period = {str(p["period"])[:7]: p.get("breach_rate") for p in item["trend"]["points"]}
        series.append(
            {
                "name": lang.term("expectation", item.get("id")) or str(item.get("title")),
                "data": [
                    None if by_period.get(x) is None else round(100 * float(by_period[x]), 2)
                    for x in periods
                ],
            }
        )
    return {
        "kind": "line",
        "x": periods,
        "y_name": lang.gettext("% breached"),
        "y_min": 0,
        "series": series,
    }


def topics(rows: list[dict[str, Any]], lang: Lang) -> dict[str, Any] | None:
    """Share of negative texts per topic and phase, largest first."""
    rows = sorted((r for r in rows if r.get("texts")), key=lambda r: -(r["texts"] or 0))[:15]
    if not rows:
        return None
    return {
        "kind": "bar",
        "categories": [
            f"{lang.term('topic', r.get('topic'))} · {lang.term('phase', r.get('phase'))}"
            for r in rows
        ],
        "x_max": 100,
        "series": [
            {
                "name": lang.gettext("% negative"),
                "data": [round(100 * float(r.get("negative_share") or 0), 1) for r in rows],
            },
            {
                "name": lang.gettext("% positive"),
                "data": [round(100 * float(r.get("positive_share") or 0), 1) for r in rows],
            },
        ],
    }


def emotion(outcome: Outcome, lang: Lang) -> dict[str, Any] | None:
    """The emotion curve across phases (voice sentiment, -1..+1)."""
    if not outcome.ok or outcome.value is None or not outcome.value.phases:
        return None
    from klantreis.model.definition import load_definition

    by_phase = outcome.value.phases
    definition = load_definition(None)
    order = [p for p in definition.phase_ids if p in by_phase]
    return {
        "kind": "line",
        "x": [definition.phase_label(p, lang.code) for p in order],
        "y_min": -1,
        "y_max": 1,
        "series": [
            {
                "name": lang.gettext("emotion"),
                "data": [by_phase[p].value for p in order],
            }
        ],
    }
