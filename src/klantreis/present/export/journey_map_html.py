"""The journey map as one self-contained HTML file (no scripts, no external assets).

Drawn on the server with inline SVG so the file opens anywhere, prints well and carries no
script at all; customer text in it (quotes) is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from klantreis.measure.journey_map import JourneyMap

_env = Environment(
    loader=PackageLoader("klantreis.present.export", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def emotion_points(journey_map: JourneyMap, width: int, height: int) -> list[dict[str, Any]]:
    """Points of the emotion curve: x per phase column, y from -1 (bottom) to +1 (top)."""
    count = len(journey_map.phases)
    points = []
    for i, phase in enumerate(journey_map.phases):
        value = (phase.emotion or {}).get("value")
        if value is None:
            continue
        x = (i + 0.5) * width / count
        y = height / 2 - float(value) * (height / 2 - 8)
        points.append({"x": round(x, 1), "y": round(y, 1), "value": value})
    return points


def render(journey_map: JourneyMap, *, title: str = "klantreis — customer journey map") -> str:
    width, height = 1200, 120
    max_persons = max([p.persons for p in journey_map.phases] + [1])
    return _env.get_template("journey_map.html").render(
        map=journey_map,
        title=title,
        width=width,
        height=height,
        points=emotion_points(journey_map, width, height),
        max_persons=max_persons,
        duration=duration,
        percent=percent,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write(journey_map: JourneyMap, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(journey_map), encoding="utf-8")
    return path
