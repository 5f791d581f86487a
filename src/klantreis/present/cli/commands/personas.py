"""`klantreis personas discover|assign|list|rules|export`: who travels which way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

import klantreis
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    StoreOption,
    console,
    err_console,
    friendly_errors,
    open_klantreis,
    print_json,
)
from klantreis.present.formatting import percent

personas_app = typer.Typer(help="Personas: groups found from behaviour or defined by rules.")

_LIST = """
SELECT persona, source, name, description, size, share, examples FROM personas
ORDER BY source, size DESC, persona
"""


@personas_app.command("discover")
@friendly_errors
def discover_command(
    store: StoreOption = None,
    k: Annotated[
        str, typer.Option("--k", help="Number of groups, or 'auto' (silhouette, k=3..8).")
    ] = "auto",
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same groups.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Group persons by behaviour and describe each group in plain words.

    Example: klantreis personas discover --k auto
    """
    if k != "auto" and not k.isdigit():
        raise CliError(f"--k: a number or 'auto', got {k!r}", 2)
    with open_klantreis(store) as kr:
        from klantreis.measure.personas import discover

        found = discover(kr, k if k == "auto" else int(k), seed=seed)
        _notify(kr)
    if as_json:
        print_json(found.to_dict())
        return
    table = Table(title=f"{found.k} personas from {found.persons:,} persons ({found.criterion})")
    for column in ("persona", "persons", "share", "description", "examples"):
        table.add_column(column)
    for p in found.personas:
        table.add_row(
            p.persona,
            f"{p.size:,}",
            percent(p.share, digits=0),
            escape(p.description),
            escape(", ".join(p.examples)),
        )
    console.print(table)
    if found.scores:
        scores = ", ".join(f"{k}: {v}" for k, v in found.scores.items())
        console.print(f"silhouette by k: {scores}")


@personas_app.command("assign")
@friendly_errors
def assign_command(store: StoreOption = None) -> None:
    """Place new persons into the stored groups without clustering again.

    Example: klantreis personas assign
    """
    with open_klantreis(store) as kr:
        from klantreis.measure.personas import assign_new

        count = assign_new(kr)
        _notify(kr)
    console.print(f"{count:,} new persons assigned to a discovered persona")


@personas_app.command("list")
@friendly_errors
def list_command(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Every persona (discovered and rule) with its size and description.

    Example: klantreis personas list --json
    """
    with open_klantreis(store) as kr:
        if not kr.engine.has_table("personas"):
            raise CliError("no personas yet: run `klantreis personas discover` first", 2)
        rows = kr.engine.rows(_LIST)
    for row in rows:
        row["examples"] = json.loads(row["examples"] or "[]")
    if as_json:
        print_json(rows)
        return
    table = Table(title="Personas")
    for column in ("persona", "source", "persons", "share", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["persona"],
            row["source"],
            f"{row['size']:,}",
            percent(row["share"], digits=0),
            escape(row["description"] or ""),
        )
    console.print(table)


@personas_app.command("rules")
@friendly_errors
def rules_command(
    store: StoreOption = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Rule file (default: personas.yaml or built-in).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the rule personas (YAML) and store their members.

    Example: klantreis personas rules --rules personas.yaml
    """
    with open_klantreis(store) as kr:
        from klantreis.measure.personas.rules import apply_rules

        sizes = apply_rules(kr, rules)
        _notify(kr)
    if as_json:
        print_json(sizes)
        return
    for persona, size in sizes.items():
        console.print(f"{persona:<28} {size:>8,} persons")


@personas_app.command("export")
@friendly_errors
def export_command(
    persona: Annotated[str, typer.Argument(help="A discovered or rule persona id.")],
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file (default: stdout).")] = None,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="POST persons who entered since the last call here."),
    ] = None,
) -> None:
    """Export a segment as CSV (e-mail hashes only where consented), or post new entries.

    Example: klantreis personas export repeat-buyers --out repeat-buyers.csv
    """
    with open_klantreis(store) as kr:
        if webhook:
            from klantreis.act.audiences import notify_entries

            result = notify_entries(kr, persona, webhook)
            console.print(
                f"{result['sent']:,} of {result['entered']:,} new members of {persona} sent"
                + (
                    f"; {result['failed']:,} failed, offered again next time"
                    if result["failed"]
                    else ""
                )
            )
            return
        from klantreis.measure.audiences import audience, to_csv

        text = to_csv(audience(kr, persona))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{text.count(chr(10)) - 1:,} persons written to {out}")


def _notify(kr: klantreis.Klantreis) -> None:
    """Post new segment members to the webhook configured in [personas] (if any)."""
    from klantreis.act.audiences import notify_configured

    for result in notify_configured(kr):
        err_console.print(
            f"webhook: {result['sent']:,} of {result['entered']:,} new members of "
            f"{result['persona']} sent",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(personas_app, name="personas")
