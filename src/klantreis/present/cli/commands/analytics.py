"""`klantreis funnel`, `klantreis paths`, `klantreis retention`: thin over the Python API.

Their options are the fields of each analysis's query model (`present/cli/queries.py`); what
is declared here is only what the terminal shows (`--dropoffs`, `--json`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import typer
from rich.table import Table

from klantreis.measure.funnels.runner import FunnelQuery
from klantreis.measure.paths import PathsQuery
from klantreis.measure.retention import RetentionQuery
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    err_console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command
from klantreis.present.formatting import duration, percent
from klantreis.present.payloads import retention_payload


def _table(title: str, labels: tuple[str, ...], figures: Iterable[str]) -> Table:
    """A table with its label columns on the left and its figures right-aligned, so that
    digits line up."""
    table = Table(title=title)
    for column in labels:
        table.add_column(column)
    for column in figures:
        table.add_column(column, justify="right")
    return table


def _renamed(old: str, new: str, old_value: str | None, value: str | None) -> str | None:
    """A value given under an option's old name, with a note to use the new one."""
    if old_value is None:
        return value
    if value is not None:
        raise typer.BadParameter(f"give {new} only ({old} is its old name)")
    err_console.print(f"note: {old} is now {new}; {old} will be removed", highlight=False)
    return old_value


def register(app: typer.Typer) -> None:
    @app.command("funnel")
    @friendly_errors
    @query_command(FunnelQuery)
    def funnel_command(
        query: FunnelQuery,
        dropoffs: Annotated[
            bool, typer.Option("--dropoffs", help="Also list the persons who dropped off.")
        ] = False,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Persons reaching each step within the window, conversion and time to convert.

        Example: klantreis funnel "Product Viewed" "Product Added" "Checkout Started"
        "Order Completed" --window 7d --json
        """
        with open_klantreis(store) as kr:
            payload = kr.run("funnel", query).as_json(dropoffs=dropoffs)
        if as_json:
            print_json(payload)
            return
        split = query.breakdown is not None
        table = _table(
            f"funnel ({query.mode}, window {query.window})",
            ("step", "breakdown") if split else ("step",),
            ("persons", "from previous", "from first", "dropped", "median time", "p90 time"),
        )
        for row in payload["steps"]:
            table.add_row(
                f"{row['step']}. {row['name']}",
                *((row["breakdown"] or "(none)",) if split else ()),
                f"{row['persons']:,}",
                percent(row["conversion_from_previous"]),
                percent(row["conversion_from_first"]),
                f"{row['dropped']:,}",
                duration(row["median_seconds"]),
                duration(row["p90_seconds"]),
            )
        console.print(table)

    @app.command("paths")
    @friendly_errors
    @query_command(PathsQuery)
    def paths_command(
        query: PathsQuery,
        old_start: Annotated[str | None, typer.Option("--start", hidden=True)] = None,
        old_end: Annotated[str | None, typer.Option("--end", hidden=True)] = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Most frequent touchpoint (or event) paths, with Sankey edges in --json.

        Example: klantreis paths --start-event "Products Searched" --steps 4 --json
        """
        start_event = _renamed("--start", "--start-event", old_start, query.start_event)
        end_event = _renamed("--end", "--end-event", old_end, query.end_event)
        query = PathsQuery.of(**{**query.arguments(), "start_event": start_event})
        query = PathsQuery.of(**{**query.arguments(), "end_event": end_event})
        with open_klantreis(store) as kr:
            result = kr.run("paths", query)
        if as_json:
            print_json(result.as_json())
            return
        table = _table(
            f"paths ({result.persons:,} persons)",
            ("path",),
            ("persons", "share", "sessions" if query.split_by_session else "persons*"),
        )
        for row in result.paths.to_pylist():
            table.add_row(
                row["path"], f"{row['persons']:,}", percent(row["share"]), f"{row['units']:,}"
            )
        console.print(table)

    @app.command("retention")
    @friendly_errors
    @query_command(RetentionQuery)
    def retention_command(
        query: RetentionQuery,
        repeat_purchase: Annotated[
            bool, typer.Option("--repeat-purchase", help="Repeat buyers per cohort of first order.")
        ] = False,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Retention by cohort (share of each cohort back in period k), or repeat purchase.

        Example: klantreis retention --period month --return-event "Order Completed" --json
        """
        period = query.period
        with open_klantreis(store) as kr:
            payload = retention_payload(kr, query, repeat_purchase=repeat_purchase)
        if as_json:
            print_json(payload)
            return
        rows = payload["cohorts"]
        if repeat_purchase:
            out = _table(
                f"repeat purchase by {period} of first order",
                ("cohort",),
                ("buyers", "repeat buyers", "share"),
            )
            for r in rows:
                out.add_row(
                    str(r["cohort"].date()),
                    f"{r['buyers']:,}",
                    f"{r['repeat_buyers']:,}",
                    percent(r["share"]),
                )
            console.print(out)
            return
        cohorts: dict[Any, dict[int, float | None]] = {}
        sizes: dict[Any, int] = {}
        for r in rows:
            cohorts.setdefault(r["cohort"], {})[r["period"]] = r["share"]
            sizes[r["cohort"]] = r["cohort_persons"]
        longest = max((max(p) for p in cohorts.values()), default=0)
        out = _table(
            f"retention by {period}", ("cohort",), ("persons", *map(str, range(longest + 1)))
        )
        for cohort, shares in cohorts.items():
            out.add_row(
                str(cohort.date()),
                f"{sizes[cohort]:,}",
                *[percent(shares.get(k)) if k in shares else "" for k in range(longest + 1)],
            )
        console.print(out)
