"""The journey map as one self-contained HTML file: the dashboard's own SVG map, inlined.

No scripts, no external assets, no server needed: the file opens anywhere and prints well.
It is the very drawing of the dashboard page (`present/web/mapview.py`), so the map a user
gets from `klantreis map --out` or `klantreis demo` looks and reads like the page. Customer
text in it (quotes) is escaped by the templates' autoescape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup

from klantreis.measure.journey_map import JourneyMap
from klantreis.model.definition import DefinitionError, load_definition
from klantreis.present.web.i18n import LOCALES, Lang
from klantreis.present.web.mapview import draw, view_of


def _subtitle(journey_map: JourneyMap, lang: Lang) -> str:
    totals = journey_map.totals
    persona = journey_map.cut.get("persona")
    who = lang.persona(persona) if persona else lang.gettext("All customers")
    first, last = totals.get("first_event"), totals.get("last_event")
    period = f"{lang.date(first)} – {lang.date(last)}" if first and last else "–"
    try:
        label = load_definition(journey_map.definition).label.get(lang.code)
    except DefinitionError:
        label = None
    return f"{who} · {period} · {label or journey_map.definition_label}"


def render(journey_map: JourneyMap, *, language: str | None = None) -> str:
    """The HTML file's text, in `language` (default: the map's own)."""
    from klantreis.present.web.context import templates

    code = language or journey_map.language
    lang = Lang(code if code in LOCALES else "en")
    subtitle = _subtitle(journey_map, lang)
    view = view_of(journey_map)
    svg, geo = draw(view, lang, subtitle)
    return templates.get_template("map_file.html").render(
        svg=Markup(svg),
        geo=geo,
        view=view,
        t=lang,
        _=lang.gettext,
        subtitle=subtitle,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write(journey_map: JourneyMap, path: Path, *, language: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(journey_map, language=language), encoding="utf-8")
    return path
