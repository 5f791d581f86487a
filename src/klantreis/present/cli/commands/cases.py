"""`klantreis cases [open|list|show|assign|resolve|note|send]` and `klantreis recovery`."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.recovery import RecoveryQuery
from klantreis.present.cli.options import (
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.cli.queries import query_command

CaseIds = Annotated[list[str], typer.Argument(help="Case ids (see `klantreis cases list`).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note to keep with the case.")]


def _inbox(kr: Any) -> Any:
    """The inbox, with changes recorded as made by this operating-system user."""
    from klantreis.act.cases.inbox import Inbox

    try:
        by = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        by = "cli"
    return Inbox(kr, by=by)


def _when(value: Any) -> str:
    return "–" if value is None else str(value)[:16]


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} cases")
    valued = any(r.get("customer_value") is not None for r in rows)  # once values are stored
    columns = ("case", "kind", "priority", "status", "owner", "due", "order")
    for column in (*columns, *(("value",) if valued else ()), "reason"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for r in rows:
        value = r.get("customer_value")
        cells = [
            escape(r["case_id"]),
            r["kind"],
            r["priority"],
            r["status"],
            escape(r["owner"] or "–"),
            _when(r["due_at"]),
            escape(r["order_id"] or "–"),
        ]
        if valued:
            cells.append("–" if value is None else f"{value:,.0f}")
        table.add_row(*cells, escape(str(r["reason"] or "")))
    return table


def _show(case: dict[str, Any]) -> None:
    for key in (
        "case_id",
        "kind",
        "reason",
        "priority",
        "status",
        "owner",
        "person_id",
        "order_id",
        "case_key",
        "expectation_id",
        "signal_at",
        "due_at",
        "message",
        "messages_sent",
    ):
        console.print(f"{key}: {escape(str(case[key]))}", highlight=False)
    for note in case["notes"]:
        console.print(
            f"  {note['at']} {escape(note['by'])}: {escape(note['text'])}", highlight=False
        )


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The inbox: customer situations that need action.")
    app.add_typer(group, name="cases")

    @group.command("open")
    @friendly_errors
    def open_command(store: StoreOption = None, as_json: JsonOption = False) -> None:
        """Open cases from new signals (the server's routine does this every 5 minutes).

        Example: klantreis cases open
        """
        with open_klantreis(store) as kr:
            run = kr.cases.open()
        if as_json:
            print_json({"opened": run.opened, "signals": run.signals, "skipped": run.skipped})
            return
        for rule, opened in run.opened.items():
            console.print(f"{rule}: {opened} opened ({run.signals[rule]} signals)")
        for rule, why in run.skipped.items():
            console.print(f"{rule}: skipped, {escape(why)}")

    @group.command("list")
    @friendly_errors
    def list_command(
        store: StoreOption = None,
        kind: Annotated[str | None, typer.Option(help="breach, at_risk, detractor, ...")] = None,
        status: Annotated[
            str | None,
            typer.Option(help="open, in_progress, resolved, no_action or active (not closed)."),
        ] = None,
        owner: Annotated[str | None, typer.Option(help="Only this owner's cases.")] = None,
        priority: Annotated[str | None, typer.Option(help="high, normal or low.")] = None,
        person: Annotated[str | None, typer.Option(help="Person or user id.")] = None,
        sort: Annotated[
            str, typer.Option(help="due, priority, opened or value (highest customer value first).")
        ] = "due",
        limit: Annotated[int, typer.Option(help="Cases to show.", min=1)] = 50,
        as_json: JsonOption = False,
    ) -> None:
        """Cases, soonest due first.

        Example: klantreis cases list --status active --kind breach
        """
        with open_klantreis(store) as kr:
            rows = kr.cases.list(
                kind=kind,
                status=status,
                owner=owner,
                priority=priority,
                person=person,
                sort=sort,
                limit=limit,
            )
        if as_json:
            print_json(rows)
            return
        console.print(_table(rows))

    @group.command("show")
    @friendly_errors
    def show_command(
        case_id: Annotated[str, typer.Argument(help="The case id.")],
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """One case with its notes.

        Example: klantreis cases show nps_detractor:demo-11-0000001-00042
        """
        with open_klantreis(store) as kr:
            case = kr.cases.show(case_id)
        if as_json:
            print_json(case)
            return
        _show(case)

    @group.command("assign")
    @friendly_errors
    def assign_command(
        case_ids: CaseIds,
        owner: Annotated[str, typer.Option("--to", help="Who takes the cases.")],
        note: NoteOption = None,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Give cases to someone (an open case becomes in progress).

        Example: klantreis cases assign order_at_risk:O-1 order_at_risk:O-2 --to anna
        """
        with open_klantreis(store) as kr:
            rows = _inbox(kr).assign(case_ids, owner, note=note)
        print_json(rows) if as_json else console.print(_table(rows))

    @group.command("resolve")
    @friendly_errors
    def resolve_command(
        case_ids: CaseIds,
        note: NoteOption = None,
        no_action: Annotated[
            bool, typer.Option("--no-action", help="Close as needing no action.")
        ] = False,
        store: StoreOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Close cases as resolved (or as needing no action), with a note.

        Example: klantreis cases resolve delivery_breach:... --note "refunded the shipping"
        """
        outcome = "no_action" if no_action else "resolved"
        with open_klantreis(store) as kr:
            rows = _inbox(kr).resolve(case_ids, note=note, outcome=outcome)
        print_json(rows) if as_json else console.print(_table(rows))

    @group.command("note")
    @friendly_errors
    def note_command(
        case_id: Annotated[str, typer.Argument(help="The case id.")],
        text: Annotated[str, typer.Argument(help="The note.")],
        store: StoreOption = None,
    ) -> None:
        """Add a note to a case.

        Example: klantreis cases note order_at_risk:O-1 "called the carrier"
        """
        with open_klantreis(store) as kr:
            _show(_inbox(kr).note(case_id, text))

    @group.command("send")
    @friendly_errors
    def send_command(
        case_id: Annotated[str, typer.Argument(help="The case id.")],
        via: Annotated[str, typer.Option(help="email ([smtp]) or webhook ([cases] webhook).")] = (
            "email"
        ),
        template: Annotated[
            str | None, typer.Option(help="The message (default: the rule's).")
        ] = None,
        store: StoreOption = None,
    ) -> None:
        """Send the case's customer its message (transactional) and record it in the journey.

        Example: klantreis cases send order_at_risk:O-1 --via email
        """
        with open_klantreis(store) as kr:
            case = _inbox(kr).send(case_id, via=via, template=template)
        console.print(f"sent; {case['messages_sent']} message(s) on {escape(case_id)}")

    @app.command("recovery")
    @friendly_errors
    @query_command(RecoveryQuery)
    def recovery_command(
        query: RecoveryQuery, store: StoreOption = None, as_json: JsonOption = False
    ) -> None:
        """Service recovery per expectation: breached customers acted on (a resolved case or a
        message) against comparable ones left alone, with 95 % intervals.

        Example: klantreis recovery --expectation delivery_promise_kept
        """
        with open_klantreis(store) as kr:
            found = kr.run("recovery", query).as_json()
        if as_json:
            print_json(found)
            return
        _print_recovery(found)


def _difference(value: dict[str, Any] | None, digits: int, unit: str = "") -> str:
    if not value or value["difference"] is None:
        return "–"
    scale = 100 if unit == " pp" else 1
    d = value["difference"] * scale
    low, high = value["low"], value["high"]
    interval = (
        ""
        if low is None or high is None
        else f" [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]"
    )
    return f"{d:+.{digits}f}{unit}{interval}"


def _print_recovery(found: dict[str, Any]) -> None:
    if not found["expectations"]:
        console.print("No breached customer was acted on yet: nothing to compare.")
        return
    table = Table(
        title="Service recovery: acted on minus left alone",
        caption=f"Outcomes within {found['horizon_days']} days of the breach; acting within "
        f"{found['act_days']} days; 95 % intervals. Not a trial: what came with acting.",
    )
    for column in ("expectation", "acted", "left alone", "review", "NPS", "repeat purchase"):
        table.add_column(column)
    for e in found["expectations"]:
        table.add_row(
            escape(e["expectation_id"]),
            f"{e['acted']:,}",
            f"{e['left_alone']:,}",
            _difference(e["review"], 2),
            _difference(e["nps"], 1),
            _difference(e["repeat_purchase"], 1, " pp"),
        )
    console.print(table)
