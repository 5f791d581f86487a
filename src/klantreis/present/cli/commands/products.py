"""`klantreis products`: how complete the product pages are and what that costs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.products import ProductsQuery, content_quality
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
    @app.command("products")
    @friendly_errors
    @query_command(ProductsQuery)
    def products_command(
        query: ProductsQuery,
        store: StoreOption = None,
        rules: Annotated[
            Path | None,
            typer.Option(help="Completeness rules YAML (default: 4 photos, 600 characters, ...)."),
        ] = None,
        limit: Annotated[int, typer.Option(help="Rows to show.", min=1)] = 15,
        as_json: JsonOption = False,
    ) -> None:
        """Product content quality: completeness per product and category, its effect on
        reviews, returns and conversion, and the product pages to fix first.

        Example: klantreis products --outcome review_score --from 2026-01-01 --json
        """
        with open_klantreis(store) as kr:
            found = (
                content_quality(kr, rules=rules, **query.arguments())
                if rules is not None
                else kr.run("products", query)
            )
        if as_json:
            print_json(found.as_json(limit=None))
            return
        _print(found.as_json(limit=limit), limit)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _print(found: dict[str, Any], limit: int) -> None:
    c = found["coverage"]
    console.print(
        f"{c['products']:,} products in the catalogue; {c['lines_in_catalogue']:,} of "
        f"{c['lines']:,} ordered products found in it; {c['reviewed_lines']:,} reviewed.",
        highlight=False,
    )
    table = Table(title="Orders by number of photos (descriptive, unadjusted)")
    for column in ("photos", "products", "orders", "reviewed", "★ mean", "1–2★", "returned"):
        table.add_column(column, justify="right")
    for row in found["by_photos"]:
        table.add_row(
            row["photos"],
            f"{row['products']:,}",
            f"{row['lines']:,}",
            f"{row['reviewed']:,}",
            "–" if row["review_score"] is None else f"{row['review_score']:.2f}",
            _pct(row["low_review_share"]),
            _pct(row["return_rate"]),
        )
    console.print(table)
    table = Table(
        title="What completeness does (category and price held equal)",
        caption="Effect of the driver on the outcome, with its 95 % interval.",
    )
    for column in ("outcome", "driver", "effect", "95% CI", "n"):
        table.add_column(column)
    for e in found["effects"]:
        table.add_row(
            escape(e["outcome_label"]),
            escape(e["driver"]),
            f"{e['effect']:+.2f} {e['unit']}",
            f"{e['ci_low']:+.2f} … {e['ci_high']:+.2f}",
            f"{e['n']:,}",
        )
    console.print(table)
    table = Table(title="Categories")
    for column in ("category", "products", "score", "orders", "★ mean", "1–2★", "returned"):
        table.add_column(column)
    for row in found["categories"][:limit]:
        table.add_row(
            escape(str(row["category"])),
            f"{row['products']:,}",
            f"{row['score']:.0f}",
            f"{row['lines']:,}",
            "–" if row["review_score"] is None else f"{row['review_score']:.2f}",
            _pct(row["low_review_share"]),
            _pct(row["return_rate"]),
        )
    console.print(table)
    table = Table(title="Product pages to fix first", caption=escape(found["method"]))
    for column in ("#", "product", "category", "score", "what is missing", "orders", "lost"):
        table.add_column(column)
    for row in found["fix_first"][:limit]:
        table.add_row(
            str(row["rank"]),
            escape(str(row["name"] or row["product_id"])),
            escape(str(row["category"] or "")),
            f"{row['score']:.0f}",
            escape(row["missing"]),
            f"{row['lines']:,}",
            "–" if row["lost"] is None else f"{row['lost']:.1f}",
        )
    console.print(table)
    for note in found["notes"]:
        console.print(escape(note["text"]), highlight=False)
