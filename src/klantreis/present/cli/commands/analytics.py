"""`klantreis funnel`, `klantreis paths`, `klantreis retention`: thin over the Python API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import typer
from rich.table import Table

from klantreis.present.cli.options import (
    FromOption,
    JsonOption,
    PersonaOption,
    StoreOption,
    ToOption,
    console,
    err_console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.formatting import duration, percent


def _table(title: str, labels: tuple[str, ...], figures: Iterable[str]) -> Table:
    """A table with its label columns on the left and its figures right-aligned, so that
    digits line up."""
    table = Table(title=title)
    for column in labels:
        table.add_column(column)
    for column in figures:
        table.add_column(column, justify="right")
    return table


def _step_mapping(step: str, where: list[str]) -> Any:
    if not where:
        return step
    filters = {}
    for item in where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--where {item!r}: use STEP_NUMBER:property=value")
        filters[key] = value
    return (
        {"event": step, "where": filters}
        if not step.startswith("phase:")
        else {"phase": step.removeprefix("phase:"), "where": filters}
    )


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
    def funnel_command(
        steps: Annotated[
            list[str], typer.Argument(help="Event names in order; `phase:<id>` for a phase.")
        ],
        window: Annotated[str, typer.Option(help="Conversion window: 30m, 12h, 7d, 2w.")] = "7d",
        mode: Annotated[str, typer.Option(help="ordered, strict or unordered.")] = "ordered",
        exclude: Annotated[
            list[str] | None, typer.Option(help="An event that drops the person (repeatable).")
        ] = None,
        where: Annotated[
            list[str] | None,
            typer.Option(help="Filter a step: N:property=value, e.g. 1:category=shoes."),
        ] = None,
        optional: Annotated[
            list[int] | None, typer.Option(help="Step number that may be skipped (repeatable).")
        ] = None,
        breakdown: Annotated[
            str | None,
            typer.Option(help="Split by this event property (or --breakdown-table column)."),
        ] = None,
        breakdown_table: Annotated[
            str | None, typer.Option(help="Person-level table holding the breakdown column.")
        ] = None,
        attribution: Annotated[
            str, typer.Option(help="first_touch, last_touch or step (with --attribution-step).")
        ] = "first_touch",
        attribution_step: Annotated[int | None, typer.Option(help="Step for attribution.")] = None,
        dropoffs: Annotated[
            bool, typer.Option("--dropoffs", help="Also list the persons who dropped off.")
        ] = False,
        start: FromOption = None,
        end: ToOption = None,
        persona: PersonaOption = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Persons reaching each step within the window, conversion and time to convert.

        Example: klantreis funnel "Product Viewed" "Product Added" "Checkout Started"
        "Order Completed" --window 7d --json
        """
        filters: dict[int, list[str]] = {}
        for item in where or []:
            number, sep, rest = item.partition(":")
            if not sep or not number.isdigit() or not 1 <= int(number) <= len(steps):
                raise typer.BadParameter(
                    f"--where {item!r}: start with a step number 1..{len(steps)}, e.g. 1:a=b"
                )
            filters.setdefault(int(number), []).append(rest)
        step_list: list[Any] = [
            _step_mapping(step, filters.get(i, [])) for i, step in enumerate(steps, start=1)
        ]
        for number in optional or []:
            if not 1 <= number <= len(steps):
                raise typer.BadParameter(f"--optional {number}: no such step")
            item = step_list[number - 1]
            if isinstance(item, str):
                item = {"phase": item[6:]} if item.startswith("phase:") else {"event": item}
            step_list[number - 1] = {**item, "optional": True}
        with open_klantreis(store) as kr:
            result = kr.funnel(
                step_list,
                window=window,
                mode=mode,
                exclude=exclude or [],
                breakdown=breakdown,
                breakdown_table=breakdown_table,
                attribution=attribution,
                attribution_step=attribution_step,
                start=start,
                end=end,
                persona=persona,
            )
            payload = result.as_json(dropoffs=dropoffs)
        if as_json:
            print_json(payload)
            return
        split = breakdown is not None
        table = _table(
            f"funnel ({mode}, window {window})",
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
    def paths_command(
        from_event: Annotated[
            str | None, typer.Option("--from-event", help="Paths from this event on.")
        ] = None,
        to_event: Annotated[
            str | None, typer.Option("--to-event", help="Paths up to this event.")
        ] = None,
        old_start: Annotated[str | None, typer.Option("--start", hidden=True)] = None,
        old_end: Annotated[str | None, typer.Option("--end", hidden=True)] = None,
        steps: Annotated[int, typer.Option(help="Items per path (1-12).")] = 5,
        by: Annotated[str, typer.Option(help="touchpoint or event.")] = "touchpoint",
        per_person: Annotated[
            bool, typer.Option("--per-person", help="Do not split paths by session.")
        ] = False,
        top: Annotated[int, typer.Option(help="How many paths to show.")] = 20,
        start: FromOption = None,
        end: ToOption = None,
        persona: PersonaOption = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Most frequent touchpoint (or event) paths, with Sankey edges in --json.

        Example: klantreis paths --from-event "Products Searched" --steps 4 --json
        """
        from_event = _renamed("--start", "--from-event", old_start, from_event)
        to_event = _renamed("--end", "--to-event", old_end, to_event)
        with open_klantreis(store) as kr:
            result = kr.paths(
                start_event=from_event,
                end_event=to_event,
                steps=steps,
                by=by,
                split_by_session=not per_person,
                top=top,
                start=start,
                end=end,
                persona=persona,
            )
        if as_json:
            print_json(result.as_json())
            return
        table = _table(
            f"paths ({result.persons:,} persons)",
            ("path",),
            ("persons", "share", "sessions" if not per_person else "persons*"),
        )
        for row in result.paths.to_pylist():
            table.add_row(
                row["path"], f"{row['persons']:,}", percent(row["share"]), f"{row['units']:,}"
            )
        console.print(table)

    @app.command("retention")
    @friendly_errors
    def retention_command(
        period: Annotated[str, typer.Option(help="week or month.")] = "week",
        cohort_event: Annotated[
            str | None, typer.Option(help="Cohort by the first of this event (default any).")
        ] = None,
        return_event: Annotated[
            str | None, typer.Option(help="Count a return on this event (default any).")
        ] = None,
        periods: Annotated[int, typer.Option(help="How many periods after the cohort.")] = 12,
        repeat_purchase: Annotated[
            bool, typer.Option("--repeat-purchase", help="Repeat buyers per cohort of first order.")
        ] = False,
        start: FromOption = None,
        end: ToOption = None,
        persona: PersonaOption = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Retention by cohort (share of each cohort back in period k), or repeat purchase.

        Example: klantreis retention --period month --return-event "Order Completed" --json
        """
        from klantreis.present.payloads import retention_payload

        with open_klantreis(store) as kr:
            payload = retention_payload(
                kr,
                period=period,
                repeat_purchase=repeat_purchase,
                cohort_event=cohort_event,
                return_event=return_event,
                periods=periods,
                start=start,
                end=end,
                persona=persona,
            )
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
