"""`klantreis search`: failing search terms, what follows a search, filter and sort use."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.search import SearchQuery
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
    @app.command("search")
    @friendly_errors
    @query_command(SearchQuery)
    def search_command(
        query: SearchQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Search terms that find nothing (by frequency), search → view → order per term,
        refinements and exits after a search; use of each filter and sort.

        Example: klantreis search --limit 10 --from 2026-01-01 --json
        """
        with open_klantreis(store) as kr:
            found = kr.run("search", query)
        if as_json:
            print_json(found.as_json())
            return
        share = found.zero_result_share
        console.print(
            f"{found.searches:,} searches, {found.zero_result_searches:,} without results"
            + ("" if share is None else f" ({share * 100:.1f} %)"),
            highlight=False,
        )
        for title, rows in (("Failing terms", found.failing_terms), ("Terms", found.terms)):
            table = Table(title=title)
            for column in ("term", "searches", "no results", "viewed", "ordered", "refined"):
                table.add_column(column)
            table.add_column("exited")
            for t in rows:
                table.add_row(
                    escape(t.term),
                    f"{t.searches:,}",
                    f"{t.zero_results:,}",
                    *(f"{share * 100:.0f} %" for share in (t.viewed_after, t.ordered_after)),
                    *(f"{share * 100:.0f} %" for share in (t.refined, t.exited)),
                )
            console.print(table)
        table = Table(title="Filters and sorts")
        for column in ("filter / sort", "uses", "no results", "ordered after"):
            table.add_column(column)
        for f in found.filters:
            table.add_row(
                escape(str(f.kind)),
                f"{f.uses:,}",
                f"{f.zero_results:,}",
                f"{f.ordered_after * 100:.1f} %",
            )
        console.print(table)
