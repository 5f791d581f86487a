"""`klantreis returns`: return reasons, the shop's decisions, waiting times, and what a rejected
or slow return costs in the next review and in repeat purchase."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.returns import ReturnsQuery
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command

OUTCOME_WORDS = {
    "quick": "quick return",
    "slow": "slow return",
    "rejected": "rejected request",
}


def register(app: typer.Typer) -> None:
    @app.command("returns")
    @friendly_errors
    @query_command(ReturnsQuery)
    def returns_command(
        query: ReturnsQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Return reasons per category and product, rejected requests, time from request to
        approval, receipt and refund, and the next review and repeat purchase after a rejected
        or slow return against a quick one.

        Example: klantreis returns --from 2026-01-01 --json
        """
        with open_klantreis(store) as kr:
            found = kr.run("returns", query)
        if as_json:
            print_json(found.as_json())
            return
        _print(found.as_json())


def _print(found: dict[str, Any]) -> None:
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
    decisions = found["decisions"]
    if decisions["decided"]:
        low, high = decisions["ci"]
        why = ", ".join(
            f"{escape(r['reason'])} {r['returns']:,}" for r in found["rejection_reasons"]
        )
        console.print(
            f"{decisions['rejected']:,} of {decisions['decided']:,} decided requests rejected "
            f"({decisions['rejected_share'] * 100:.1f} %, 95 % CI {low * 100:.1f}–"
            f"{high * 100:.1f} %): {why}",
            highlight=False,
        )
    for name, spread in found["times"].items():
        if spread["n"]:
            console.print(
                f"{name.replace('_', ' ')}: median {spread['median_hours'] / 24:.1f} days, "
                f"90 % within {spread['p90_hours'] / 24:.1f} days ({spread['n']:,} returns)",
                highlight=False,
            )
    table = Table(title=f"After the return (repeat purchase within {found['repeat_days']} days)")
    for column in ("", "returns", "next review", "1–2★", "repeat purchase", "against quick"):
        table.add_column(column)
    for r in found["after_return"]:
        table.add_row(
            OUTCOME_WORDS[r["outcome"]],
            f"{r['returns']:,}",
            _num(r["review_score"], r["reviewed"]),
            _pct(r["low_review_share"]),
            _pct(r["repeat_share"]),
            _against(r.get("against_quick")),
        )
    console.print(table)
    console.print(
        f"Slow: approved more than {found['slow_approval_hours']} hours or refunded more than "
        f"{found['slow_refund_days']} days after the request.",
        highlight=False,
    )
    for note in found["notes"]:
        console.print(escape(note), highlight=False)


def _num(value: float | None, n: int) -> str:
    return "–" if value is None else f"{value:.2f} ({n:,})"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _against(against: dict[str, Any] | None) -> str:
    if not against:
        return ""
    said = []
    review = against.get("review_score")
    if review and review["difference"] is not None:
        said.append(f"review {review['difference']:+.2f} ({_bounds(review, 1)})")
    repeat = against.get("repeat_share")
    if repeat and repeat["difference"] is not None:
        said.append(f"repeat {repeat['difference'] * 100:+.1f} pp ({_bounds(repeat, 100)})")
    return "; ".join(said)


def _bounds(difference: dict[str, Any], scale: float) -> str:
    if difference["low"] is None or difference["high"] is None:
        return "no interval"
    return f"{difference['low'] * scale:+.2f} … {difference['high'] * scale:+.2f}"
