"""`klantreis sources`: where customers came from, and how those customers fare."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.acquisition.sources import SourcesQuery
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
    @app.command("sources")
    @friendly_errors
    @query_command(SourcesQuery)
    def sources_command(
        query: SourcesQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Per acquisition source: persons, conversion, buyers later hit by a breach, repeat
        buyers and what they say; * marks a share whose interval lies above or below the
        shop's own.

        Example: klantreis sources --by source --touch last
        """
        with open_klantreis(store) as kr:
            found = kr.run("sources", query).as_json()
        if as_json:
            print_json(found)
            return
        if not found["sources"]:
            console.print("no visits with a source yet", highlight=False)
            return
        table = Table(
            query.by,
            "persons",
            "conversion",
            "breached buyers",
            "repeat buyers",
            "texts",
            "sentiment",
            "topics",
            title=f"Sources ({query.touch} touch)",
        )
        for row in found["sources"]:
            table.add_row(
                escape(str(row["value"])),
                f"{row['persons']:,}",
                _share(row["conversion"]),
                _share(row["breach_share"]),
                _share(row["repeat_share"]),
                f"{row['texts']:,}",
                "–" if row["sentiment"] is None else f"{row['sentiment']:+.2f}",
                escape(", ".join(t["topic"] for t in row["topics"])),
            )
        console.print(table)
        console.print(
            f"All: {found['persons']:,} persons, conversion {_pct(found['conversion'])}, "
            f"breached buyers {_pct(found['breach_share'])}, "
            f"repeat buyers {_pct(found['repeat_share'])}. * the 95 % interval lies above (↑) "
            "or below (↓) the shop's own.",
            highlight=False,
        )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _share(share: dict[str, Any]) -> str:
    mark = {"above": " ↑*", "below": " ↓*"}.get(share["vs_all"] or "", "")
    if share["share"] is None:
        return "–"
    return f"{_pct(share['share'])} ({share['low'] * 100:.0f}–{share['high'] * 100:.0f}){mark}"
