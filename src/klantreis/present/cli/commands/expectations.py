"""`klantreis expectations`, `klantreis at-risk`, `klantreis alerts check`: promises kept or not."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from klantreis.act.alerts import check_alerts
from klantreis.measure.expectations.analyses import AtRiskQuery, ExpectationsQuery
from klantreis.measure.expectations.scorecard import Scorecard
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
from klantreis.present.formatting import percent

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Judge as of this moment (ISO, UTC); default: the latest stored event.",
        show_default=False,
    ),
]


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise CliError(
            f"--now: not an ISO timestamp: {value!r} (e.g. 2026-03-01T12:00)", 2
        ) from None


def _diff(effect: dict[str, Any] | None, scale: float = 1.0, unit: str = "") -> str:
    if not effect or effect.get("difference") is None:
        return "–"
    low, high = effect.get("low"), effect.get("high")
    interval = "" if low is None or high is None else f" [{low * scale:+.2f}, {high * scale:+.2f}]"
    return f"{effect['difference'] * scale:+.2f}{unit}{interval}"


def scorecard_table(card: Scorecard) -> Table:
    title = "Expectation scorecard"
    if card.as_of:
        title += f" (as of {card.as_of:%Y-%m-%d %H:%M}, lateness by {card.compare})"
    table = Table(title=title)
    for column in (
        "expectation",
        "cases",
        "breach rate [95 %]",
        "delight [95 %]",
        "trend",
        "review met→breached",
        "Δ repeat",
        "Δ NPS",
        "status",
    ):
        table.add_column(column, overflow="fold")
    for e in card.expectations:
        if e.status == "no data":
            continue
        low, high = percent(e.interval.get("low")), percent(e.interval.get("high"))
        rate = f"{percent(e.breach_rate)} [{low}–{high}]"
        if e.overall:
            rate += f"; {e.overall['text']}"
        met, bad = e.effects.get("met") or {}, e.effects.get("breached") or {}
        reviews = (
            "–"
            if met.get("review_score") is None or bad.get("review_score") is None
            else f"{met['review_score']:.2f} → {bad['review_score']:.2f}"
        )
        delight = (
            "–"
            if e.delight_margin is None
            else (
                f"{percent(e.delight_rate)} [{percent(e.delight_interval.get('low'))}–"
                f"{percent(e.delight_interval.get('high'))}]"
            )
        )
        colour = "green" if e.status == "kept" else "red"
        table.add_row(
            e.id,
            f"{e.cases:,}",
            rate,
            delight,
            e.trend.get("direction", "–"),
            reviews,
            _diff(e.effects.get("repeat_purchase"), 100, " pt"),
            _diff(e.effects.get("nps")),
            f"[{colour}]{e.status}[/]",
        )
    return table


def no_data_lines(card: Scorecard) -> list[str]:
    return [
        f"[dim]no data:[/] {e.id} ({e.no_data_reason})"
        for e in card.expectations
        if e.status == "no data"
    ]


def _money(amount: float, currency: str | None) -> str:
    return f"{currency or ''} {amount:,.0f}".strip()


def value_at_risk_lines(card: Scorecard) -> list[str]:
    """One sentence per breached expectation: the customer value its breaches hit."""
    lines = []
    for e in card.expectations:
        risk = e.value_at_risk
        if not risk or not risk["buyers"]:
            continue
        currency = risk["currency"]
        worth = (
            f"{_money(risk['expected_revenue'], currency)} of expected revenue in the next "
            f"{risk['horizon_weeks']} weeks ({_money(risk['revenue'], currency)} to date)"
            if risk["expected_revenue"] is not None
            else f"{_money(risk['revenue'], currency)} of revenue to date (RFM: no forecast)"
        )
        line = f"Breaches of {e.id} hit {risk['buyers']:,} customers worth {worth}"
        if risk["lost_revenue"] is not None:
            line += (
                f"; measured loss: {risk['lost_repeat_purchases']:,.0f} repeat purchases, "
                f"{_money(risk['lost_revenue'], currency)}"
            )
        lines.append(line + ".")
    return lines


def groups_table(card: Scorecard) -> Table:
    table = Table(title=f"Breach rate by {card.by}")
    for column in ("expectation", card.by or "group", "cases", "breached", "breach rate [95 %]"):
        table.add_column(column, overflow="fold")
    rows = card.phases if card.by == "phase" else [g for e in card.expectations for g in e.groups]
    for g in rows:
        table.add_row(
            g.get("expectation_id") or "(all)",
            str(g["value"]),
            f"{g['cases']:,}",
            f"{g['breached']:,}",
            f"{percent(g['breach_rate'])} [{percent(g['low'])}–{percent(g['high'])}]",
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("expectations")
    @friendly_errors
    @query_command(ExpectationsQuery)
    def expectations_command(
        query: ExpectationsQuery, store: StoreOption = None, json: JsonOption = False
    ) -> None:
        """The expectation scorecard: promises kept and broken, and what a breach costs.

        Example: klantreis expectations --by carrier --json
        """
        with open_klantreis(store) as kr:
            card = kr.run("expectations", query)
        if json:
            print_json(card.to_dict())
            return
        console.print(scorecard_table(card))
        for line in no_data_lines(card):
            console.print(line, highlight=False)
        for line in value_at_risk_lines(card):
            console.print(line, highlight=False)
        if query.by:
            console.print(groups_table(card))

    @app.command("at-risk")
    @friendly_errors
    @query_command(AtRiskQuery)
    def at_risk_command(
        query: AtRiskQuery, store: StoreOption = None, json: JsonOption = False
    ) -> None:
        """Orders about to break their delivery promise, soonest first: warn these customers.

        Example: klantreis at-risk --now 2018-03-01 --json
        """
        with open_klantreis(store) as kr:
            result = kr.run("at_risk", query)
        rows = result.to_pylist()
        if json:
            print_json({"now": result.meta["now"], "orders": rows})
            return
        table = Table(title=f"Orders at risk of a broken promise (now {result.meta['now']})")
        for column in ("order", "stage", "promised", "hours left", "carrier", "person"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(
                row["order_id"],
                row["stage"],
                str(row["promised_at"]),
                f"{row['hours_left']:.1f}",
                row["carrier"] or "–",
                row["person_id"],
            )
        console.print(table)
        console.print(f"{len(rows)} order(s) at risk")

    alerts = typer.Typer(
        help="Alerts on expectations (\\[\\[alerts]] in klantreis.toml).", no_args_is_help=True
    )
    app.add_typer(alerts, name="alerts")

    @alerts.command("check")
    @friendly_errors
    def alerts_check(
        store: StoreOption = None,
        now: NowOption = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Evaluate only; send nothing.")
        ] = False,
        json: JsonOption = False,
    ) -> None:
        """Check every \\[\\[alerts]] rule; a breach rate over its limit sends webhook / e-mail.

        Exit code 1 when a webhook or e-mail could not be delivered.
        Example: klantreis alerts check --now 2026-03-01T00:00
        """
        when = _now(now)
        with open_klantreis(store) as kr:
            outcomes = check_alerts(kr, now=when, send=not dry_run)
        failed = any(o.errors for o in outcomes)
        if json:
            print_json({"alerts": outcomes})
        else:
            if not outcomes:
                console.print("no [[alerts]] in klantreis.toml")
            for o in outcomes:
                mark = "[red]ALERT[/]" if o.triggered else "[green]ok[/]"
                console.print(
                    f"{mark} {o.name}: {o.reason} ({o.breached}/{o.cases} cases, "
                    f"{o.start:%Y-%m-%d %H:%M} – {o.end:%Y-%m-%d %H:%M})"
                )
                for sent in o.sent:
                    console.print(f"  sent: {sent}")
                for error in o.errors:
                    console.print(f"  [red]failed:[/] {error}")
        if failed:
            raise typer.Exit(1)
