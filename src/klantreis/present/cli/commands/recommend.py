"""`klantreis recommend PERSON`: products most bought by similar persons."""

from __future__ import annotations

import typer
from rich.table import Table

from klantreis.measure.recommend import RecommendQuery
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
    @app.command("recommend")
    @friendly_errors
    @query_command(RecommendQuery)
    def recommend_command(
        query: RecommendQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Recommend products for a person from what similar persons bought.

        Example: klantreis recommend cus_7_000042 --n 5
        """
        with open_klantreis(store) as kr:
            items = kr.run("recommend", query)
        if as_json:
            print_json(items.as_json())
            return
        table = Table(title=f"Recommended for {query.person}")
        for column in ("#", "product", "score", "similar buyers", "why"):
            table.add_column(column)
        for i, item in enumerate(items.items, start=1):
            table.add_row(
                str(i), item.product_id, f"{item.score:.2f}", str(item.buyers or ""), item.why
            )
        console.print(table)
