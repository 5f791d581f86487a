"""`klantreis returns`: return reasons, times to receipt and refund, what a slow refund costs."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command("returns")
    @friendly_errors
    def returns_command(store: StoreOption = None, as_json: JsonOption = False) -> None:
        """Return reasons per category and product, time from request to receipt and refund,
        and the review after a slow refund against a quick one.

        Example: klantreis returns --json
        """
        with open_klantreis(store) as kr:
            found = kr.returns()
        if as_json:
            print_json(found)
            return
        console.print(f"{found['returns']:,} returns requested.", highlight=False)
        table = Table(title="Return reasons")
        for column in ("reason", "returns", "share"):
            table.add_column(column)
        for r in found["reasons"]:
            table.add_row(escape(r["reason"]), f"{r['returns']:,}", f"{r['share'] * 100:.1f} %")
        console.print(table)
        table = Table(title="Categories")
        for column in ("category", "returns", "top reason"):
            table.add_column(column)
        for r in found["categories"][:15]:
            table.add_row(escape(str(r["category"])), f"{r['returns']:,}", escape(r["top_reason"]))
        console.print(table)
        for name, spread in found["times"].items():
            if spread["n"]:
                console.print(
                    f"{name.replace('_', ' ')}: median {spread['median_hours'] / 24:.1f} days, "
                    f"90 % within {spread['p90_hours'] / 24:.1f} days ({spread['n']:,} returns)",
                    highlight=False,
                )
        for r in found["after_refund"]:
            score = "–" if r["review_score"] is None else f"{r['review_score']:.2f}"
            days = found["slow_refund_days"]
            when = f"over {days} days" if r["refund"] == "slow" else f"within {days} days"
            console.print(
                f"{r['refund']} refund ({when}): "
                f"{r['returns']:,} returns, review {score} ({r['reviewed']:,} reviews)",
                highlight=False,
            )
        for note in found["notes"]:
            console.print(escape(note), highlight=False)
