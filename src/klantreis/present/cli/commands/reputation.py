"""`klantreis voice reputation`: reviews and mentions per platform over time."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.reputation import ReputationQuery
from klantreis.present.cli.commands.voice import voice_app
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command


def register(app: typer.Typer) -> None:
    """The command joins the `voice` group (which `voice.register` puts on the app)."""
    del app


@voice_app.command("reputation")
@friendly_errors
@query_command(ReputationQuery)
def reputation_command(
    query: ReputationQuery, store: StoreOption = None, json: JsonOption = False
) -> None:
    """Per platform and period: reviews, mentions, mean rating, sentiment, negative share.

    Example: klantreis voice reputation --period quarter --platform trustpilot
    """
    with open_klantreis(store) as kr:
        result = kr.run("reputation", query)
    rows = result.to_pylist()
    if json:
        print_json(rows)
        return
    if not rows:
        console.print("no reviews or mentions with a platform", highlight=False)
        return
    table = Table(
        "platform", query.period, "texts", "mentions", "rating", "change", "sentiment", "neg %"
    )
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
    waiting = result.meta.get("unscored_texts", 0)
    if waiting:
        console.print(
            f"{waiting:,} texts are not scored yet, so sentiment and neg % leave them out: "
            "run `klantreis voice update`",
            highlight=False,
            markup=False,
        )


def _number(value: float | None, pattern: str) -> str:
    return "" if value is None else pattern.format(value)
