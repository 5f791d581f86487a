"""`klantreis opportunities`: what to fix first, ranked by its measured effect on outcomes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.opportunities import opportunities
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command("opportunities")
    @friendly_errors
    def opportunities_command(
        store: StoreOption = None,
        persona: Annotated[str | None, typer.Option(help="Only persons of this persona.")] = None,
        outcome: Annotated[
            str | None, typer.Option(help="review_score, nps or repeat_purchase (default all).")
        ] = None,
        limit: Annotated[int, typer.Option(help="Rows to show.", min=1)] = 15,
        as_json: JsonOption = False,
    ) -> None:
        """Breaches, touchpoints and topics ranked by what they cost (key-driver analysis).

        Example: klantreis opportunities --persona repeat-buyers --json
        """
        with open_klantreis(store) as kr:
            found = opportunities(kr, persona=persona, outcome=outcome)
        if as_json:
            print_json(found)
            return
        table = Table(title="Opportunities (effect at equal order value, category and region)")
        for column in ("#", "what", "kind", "outcome", "effect", "95% CI", "persons"):
            table.add_column(column)
        for i, o in enumerate(found[:limit], start=1):
            table.add_row(
                str(i),
                escape(o["title"]),
                o["kind"],
                o["outcome"],
                f"{o['effect']:+.3f}",
                f"{o['ci_low']:+.3f} … {o['ci_high']:+.3f}",
                f"{o['persons']:,}",
            )
        console.print(table)
        if found:
            console.print(found[0]["method"])
