"""`klantreis map`, `klantreis model build`, `klantreis stats`: the journey and the store."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from klantreis.measure.journey_map import JourneyMap, JourneyMapQuery
from klantreis.measure.store_stats import StatsQuery
from klantreis.model import ensure_built
from klantreis.model.definition import DefinitionError
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command
from klantreis.present.export.journey_map_html import write
from klantreis.present.web.i18n import LOCALES, Lang

DefinitionOption = Annotated[
    str | None,
    typer.Option(
        "--definition",
        help="Journey definition: six-phase (default), aida, or a YAML file.",
        show_default=False,
    ),
]


def _check_lang(value: str) -> str:
    if value not in LOCALES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOCALES)}")
    return value


LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help=f"Language of phases, touchpoints and headings ({'/'.join(LOCALES)}).",
        callback=_check_lang,
    ),
]


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


def journey_map_table(journey_map: JourneyMap, lang: str = "en") -> Table:
    """The map as a terminal table; narrow terminals get the essential columns only.

    Phase labels come localised from the analysis (`language=`); touchpoints, channels and
    headings are put in `lang` here."""
    t = Lang(lang)
    wide = console.width >= 120
    table = Table(title=f"{t.gettext('Customer journey map')} — {journey_map.definition_label}")
    columns = ["phase", "persons", "→ next", "median time", "top touchpoint"]
    if wide:
        columns += ["channels"]
    columns += ["emotion", "pains"]
    for column in columns:
        table.add_column(t.gettext(column), overflow="fold", no_wrap=column == "phase")
    for p in journey_map.phases:
        emotion = (p.emotion or {}).get("value")
        row = [
            p.label,
            t.num(p.persons),
            "–" if p.conversion_to_next is None else t.pct(p.conversion_to_next, 1),
            t.duration(p.median_time_seconds),
            (", " if wide else "\n").join(
                t.term("touchpoint", tp["touchpoint"]) for tp in p.touchpoints[: 3 if wide else 1]
            )
            or "–",
        ]
        if wide:
            row.append(", ".join(t.term("channel", c["channel"]) for c in p.channels[:3]) or "–")
        row += [
            "–" if emotion is None else t.signed(emotion),
            str(len(p.pain_points)) if p.pain_points else "–",
        ]
        table.add_row(*row)
    return table


def journey_map_sentences(journey_map: JourneyMap) -> list[str]:
    """What the table cannot say by itself: phases that are not a funnel, analyses that are
    missing or failed."""
    from klantreis.present.web.mapview import NOT_A_FUNNEL, RANKING_NOTES, unscored_sentence

    labels = {p.id: p.label for p in journey_map.phases}
    lines = [
        NOT_A_FUNNEL.format(
            phase=labels.get(n.phase or "", n.phase or ""),
            previous=labels.get(n.previous or "", n.previous or ""),
            persons=f"{n.persons:,}",
            previous_persons=f"{n.previous_persons:,}",
            without=f"{n.persons_without_previous:,}",
        )
        for n in journey_map.notes
        if n.kind == "not_a_funnel"
    ]
    lines += [
        unscored_sentence(n.texts or 0, lambda text, **values: text.format(**values), "{:,}".format)
        for n in journey_map.notes
        if n.kind == "unscored_texts"
    ]
    lines += [RANKING_NOTES[n.kind] for n in journey_map.notes if n.kind in RANKING_NOTES]
    lines += [f"not installed: {name}" for name in journey_map.missing]
    lines += [f"failed: {e['analysis']}: {e['error']}" for e in journey_map.errors]
    return lines


def register(app: typer.Typer) -> None:
    @app.command("map")
    @friendly_errors
    @query_command(JourneyMapQuery)
    def map_command(
        query: JourneyMapQuery,
        store: StoreOption = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Also write the map as a HTML file.")
        ] = None,
        open_browser: Annotated[
            bool, typer.Option("--open/--no-open", help="Open the HTML file.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Show the customer journey map: per phase, volume, conversion, time, touchpoints.

        Example: klantreis map --definition aida --lang nl --out map.html
        """
        with open_klantreis(store) as kr:
            try:
                journey_map = kr.run("journey_map", query)
            except DefinitionError as exc:
                raise CliError(str(exc), 2) from None
        if as_json:
            print_json(journey_map.to_dict())
        else:
            console.print(journey_map_table(journey_map, query.language))
            for line in journey_map_sentences(journey_map):
                console.print(line, markup=False, highlight=False)
        if out is not None:
            write(journey_map, out)
            if not as_json:
                console.print(f"journey map written to [bold]{out}[/]")
            if open_browser:
                webbrowser.open(out.resolve().as_uri())

    model = typer.Typer(help="The model: persons, sessions, journeys, phases.")
    app.add_typer(model, name="model")

    @model.command("build")
    @friendly_errors
    def model_build(
        store: StoreOption = None,
        definition: DefinitionOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Rebuild persons, sessions, journeys and phases from the stored events.

        Example: klantreis model build --definition aida
        """
        from klantreis.model import build, load_definition

        with open_klantreis(store) as kr, console.status("building the model"):
            summary = build(kr.engine, load_definition(definition))
            ensure_built(kr, definition)
        if as_json:
            print_json(summary.__dict__)
        else:
            console.print(
                f"{summary.persons:,} persons, {summary.journeys:,} journeys, "
                f"{summary.sessions:,} sessions, {summary.events:,} events "
                f"({summary.definition})"
            )

    @app.command("stats")
    @friendly_errors
    @query_command(StatsQuery)
    def stats_command(
        query: StatsQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """What the store holds: events by name, persons, journeys, quarantine by reason.

        Example: klantreis stats --json
        """
        with open_klantreis(store) as kr:
            stats = kr.run("stats", query)
        if as_json:
            print_json(stats.as_json())
            return
        console.print(
            f"[bold]{stats.events:,}[/] events, [bold]{stats.persons:,}[/] persons, "
            f"[bold]{stats.journeys:,}[/] journeys, "
            f"[bold]{stats.quarantined:,}[/] quarantined",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"{stats.journey_events:,} of the events are steps of a journey (what the journey "
            f"map counts); {stats.identity_messages:,} are identify/alias/group messages that "
            "link ids.",
            highlight=False,
            soft_wrap=True,
        )
        table = Table(title="events by name")
        table.add_column("event")
        table.add_column("count", justify="right")
        for named in stats.events_by_name:
            table.add_row(named.event, f"{named.count:,}")
        console.print(table)
        if stats.quarantine_by_reason:
            reasons = Table(title="quarantine by reason")
            reasons.add_column("reason")
            reasons.add_column("count", justify="right")
            for held in stats.quarantine_by_reason:
                reasons.add_row(held.reason, f"{held.count:,}")
            console.print(reasons)
        if stats.identity_quarantine_by_reason:
            refused = Table(title="identity links refused (table identity_quarantine)")
            refused.add_column("reason")
            refused.add_column("meaning")
            refused.add_column("ids", justify="right")
            refused.add_column("messages", justify="right")
            for link in stats.identity_quarantine_by_reason:
                refused.add_row(link.reason, link.meaning, f"{link.count:,}", f"{link.messages:,}")
            console.print(refused)
