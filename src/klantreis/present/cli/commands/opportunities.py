"""`klantreis opportunities`: what to fix first, ranked by its measured effect on outcomes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.opportunities import OUTCOMES, OpportunitiesQuery
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
    @app.command("opportunities")
    @friendly_errors
    @query_command(OpportunitiesQuery)
    def opportunities_command(
        query: OpportunitiesQuery,
        store: StoreOption = None,
        limit: Annotated[int, typer.Option(help="Rows to show.", min=1)] = 15,
        as_json: JsonOption = False,
    ) -> None:
        """Breaches, touchpoints and topics ranked by what they cost (key-driver analysis).

        Example: klantreis opportunities --persona repeat-buyers --json
        """
        with open_klantreis(store) as kr:
            found = kr.run("opportunities", query)
        if as_json:
            print_json(found.as_json())
            return
        if not found.opportunities:
            console.print("No driver measurably costs an outcome (no interval below zero).")
            return
        order = (
            "the expected revenue of the persons hit"
            if query.by == "value"
            else "the outcome lost in total (effect × orders affected)"
        )
        for name, items in found.by_outcome().items():
            unit = "journey" if name == "conversion" else "order"
            table = Table(
                title=f"Opportunities for {OUTCOMES[name].label}: what costs it most, first",
                caption=f"Only effects whose 95% interval lies below zero; ranked by {order}.",
            )
            for column in (
                "#",
                "what",
                "kind",
                f"effect per {unit}",
                "95% CI",
                "lost",
                "persons",
                "their value",
            ):
                table.add_column(column)
            scale = OUTCOMES[name].scale
            for o in items[:limit]:
                table.add_row(
                    str(o.rank),
                    escape(o.title),
                    o.kind,
                    o.effect_text,
                    f"{o.ci_low * scale:+.2f} … {o.ci_high * scale:+.2f}",
                    o.impact_text,
                    f"{o.persons:,}",
                    "–"
                    if o.value_at_stake is None
                    else f"{o.currency or ''} {o.value_at_stake:,.0f}".strip(),
                )
            console.print(table)
        console.print(found.opportunities[0].method)
