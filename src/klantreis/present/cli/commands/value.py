"""`klantreis value`: customer value per buyer, the method used and why."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.value.analysis import ValueQuery
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command


def _money(amount: float | None, currency: str | None) -> str:
    return "–" if amount is None else f"{currency or ''} {amount:,.2f}".strip()


def register(app: typer.Typer) -> None:
    @app.command("value")
    @friendly_errors
    @query_command(ValueQuery)
    def value_command(
        query: ValueQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Customer value: revenue to date, expected purchases and revenue (BG/NBD with
        Gamma-Gamma), probability alive, RFM score; which method and why.

        Example: klantreis value --horizon-weeks 26 --limit 10
        """
        with open_klantreis(store) as kr:
            found = kr.run("value", query)
        if as_json:
            print_json(found.as_json())
            return
        _print(found.as_json())


def _unidentified(names: list[str]) -> str:
    """The plain sentence for a fit whose parameters ran off to the edge (as on the page)."""
    if {"a", "b"} & set(names):
        return (
            "Not identified: these buyers do not show who stops buying (the dropout parameters "
            "a and b ran off to the edge of the fit), so every buyer gets the same chance of "
            "stopping; read the probability alive and the expected purchases as rough."
        )
    return (
        f"Not identified: the fit did not settle on {', '.join(names)} (ran off to the edge); "
        "read the expected purchases and the probability alive as rough."
    )


def _print(found: dict[str, Any]) -> None:
    currency = found["currency"]
    console.print(f"Method: {found['method']} — {escape(found['reason'])}", highlight=False)
    if found["bgnbd"]:
        bg, gg = found["bgnbd"], found["gamma_gamma"]
        console.print(
            f"BG/NBD r={bg['r']:.3f} α={bg['alpha']:.3f} a={bg['a']:.3f} b={bg['b']:.3f}; "
            f"Gamma-Gamma p={gg['p']:.2f} q={gg['q']:.2f} γ={gg['gamma']:.2f}",
            highlight=False,
        )
    if found["at_boundary"]:
        console.print(_unidentified(found["at_boundary"]), highlight=False)
    totals = found["totals"]
    line = f"{found['persons']:,} buyers as of {found['as_of'][:10]}: revenue to date "
    line += _money(totals["revenue"], currency)
    if totals["expected_revenue"] is not None:
        line += (
            f"; expected in the next {found['horizon_weeks']} weeks: "
            f"{totals['expected_purchases']:,} purchases, "
            f"{_money(totals['expected_revenue'], currency)}"
        )
    console.print(line, highlight=False)
    if found["churn"]:
        table = Table(title="Churn risk (probability alive)")
        for column in ("churn risk", "persons", "revenue to date", "expected revenue"):
            table.add_column(column)
        for band in found["churn"]:
            table.add_row(
                band["churn_risk"],
                f"{band['persons']:,}",
                _money(band["revenue"], currency),
                _money(band["expected_revenue"], currency),
            )
        console.print(table)
    table = Table(title="Most valuable buyers")
    for column in ("person", "orders", "revenue", "expected revenue", "P(alive)", "RFM"):
        table.add_column(column)
    for p in found["persons_listed"]:
        alive = "–" if p["p_alive"] is None else f"{p['p_alive']:.2f}"
        table.add_row(
            escape(p["person_id"]),
            f"{p['orders']:,}",
            _money(p["revenue"], currency),
            _money(p["expected_revenue"], currency),
            alive,
            p["rfm"],
        )
    console.print(table)
    if found.get("holdout"):
        h = found["holdout"]
        console.print(
            f"Check after {h['start'][:10]} to {h['end'][:10]}"
            f"{'' if h['complete'] else ' (events end earlier)'}: predicted "
            f"{h['predicted_purchases']:,} purchases, actual {h['actual_purchases']:,}",
            highlight=False,
        )
