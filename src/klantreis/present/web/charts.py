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
        label = _pick(row, "step", "event", "name")
        categories.append(str(label if label is not None else steps[index]))
        values.append(_pick(row, "persons", "count", "users", "entered") or 0)
    return {"kind": "bar", "categories": categories,
            "series": [{"name": lang.gettext("persons"), "data": values}]}


def sankey(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A Sankey from rows with a source, a target and a size."""
    links = []
    for row in rows:
        source = _pick(row, "source", "from", "from_phase", "phase_from")
        target = _pick(row, "target", "to", "to_phase", "phase_to")
        value = _pick(row, "value", "persons", "journeys", "count")
        if source is None or target is None or not value or source == target:
            continue
        links.append({"source": str(source), "target": str(target), "value": value})
    if not links:
        return None
    names = sorted({link["source"] for link in links} | {link["target"] for link in links})
    return {"kind": "sankey", "nodes": [{"name": n} for n in names], "links": links}


def scorecard(rows: list[dict[str, Any]], lang: Lang) -> dict[str, Any] | None:
    """Bars of the share of cases meeting each expectation."""
    categories, met = [], []
    for row in rows:
        name = _pick(row, "label", "expectation", "name", "id")
        rate = _pick(row, "met_rate", "rate", "share_met", "score")
        if name is None or rate is None:
            continue
        categories.append(str(name))
        met.append(round(float(rate) * (100 if float(rate) <= 1 else 1), 1))
    if not categories:
        return None
    return {"kind": "bar", "categories": categories, "x_max": 100,
            "series": [{"name": lang.gettext("% met"), "data": met}]}


def voice(outcome: Outcome, lang: Lang) -> dict[str, Any] | None:
    """Sentiment over time when the voice analysis gives a time series."""
    rows = outcome.rows
    if not rows or ("month" not in rows[0] and "period" not in rows[0]):
        return None
    x = [str(_pick(r, "month", "period")) for r in rows]
    data = [_pick(r, "sentiment", "mean_sentiment", "score") for r in rows]
    return {"kind": "line", "x": x, "y_min": -1, "y_max": 1,
            "series": [{"name": lang.gettext("sentiment"), "data": data}]}
