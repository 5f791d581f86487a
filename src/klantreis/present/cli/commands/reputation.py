"""`klantreis voice reputation`: reviews and mentions per platform over time."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.present.cli.commands.voice import voice_app
from klantreis.present.cli.options import (
    FromOption,
    JsonOption,
    StoreOption,
    ToOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)

PERIOD_NAMES = "day, week, month, quarter, year"
"""`measure.reputation.PERIODS`, written out so that `klantreis voice score` (same group) does
not load the reputation analysis and the store with it; a test keeps the two equal."""


def register(app: typer.Typer) -> None:
    """The command joins the `voice` group (which `voice.register` puts on the app)."""
    del app


@voice_app.command("reputation")
@friendly_errors
def reputation_command(
    period: Annotated[
        str, typer.Option("--period", help=f"Group by this period ({PERIOD_NAMES}).")
    ] = "month",
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform (trustpilot, x, ...).")
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Per platform and period: reviews, mentions, mean rating, sentiment, negative share.

    Example: klantreis voice reputation --period quarter --platform trustpilot
    """
    with open_klantreis(store) as kr:
        result = kr.reputation(period=period, platform=platform, start=start, end=end)
    rows = result.to_pylist()
    if json:
        print_json(rows)
        return
    if not rows:
        console.print("no reviews or mentions with a platform", highlight=False)
        return
    table = Table("platform", period, "texts", "mentions", "rating", "change", "sentiment", "neg %")
    for row in rows:
        table.add_row(
            escape(row["platform"]),
            str(row["period"]),
            str(row["texts"]),
            str(row["mentions"]),
            _number(row["mean_rating"], "{:.2f}"),
            _number(row["rating_change"], "{:+.2f}"),
            _number(row["sentiment"], "{:+.2f}"),
            _number(
                None if row["negative_share"] is None else 100 * row["negative_share"], "{:.0f}"
            ),
        )
    console.print(table)


def _number(value: float | None, pattern: str) -> str:
    return "" if value is None else pattern.format(value)
