"""`klantreis surveys`: survey links, NPS/CSAT/CES scores and review requests."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import klantreis
from klantreis.collect.surveys import SurveyError, SurveyLink, make_token
from klantreis.measure.voice.survey_scores import SurveyScoresQuery
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    StoreOption,
    console,
    friendly_errors,
    open_klantreis,
    open_store,
    print_json,
)
from klantreis.present.cli.queries import query_command

surveys_app = typer.Typer(
    help="NPS, CSAT and CES surveys and review requests.", no_args_is_help=True
)

BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        help="Where `klantreis serve` is reachable, e.g. https://shop.example/klantreis",
    ),
]


def _existing(store: object) -> klantreis.Klantreis:
    return open_klantreis(store)  # type: ignore[arg-type]


@surveys_app.command("link")
@friendly_errors
def link(
    base_url: BaseUrl,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or ces")] = "nps",
    user: Annotated[str | None, typer.Option("--user", help="The customer's user id.")] = None,
    order: Annotated[str | None, typer.Option("--order", help="The order it is about.")] = None,
    language: Annotated[str, typer.Option("--language", help="en, nl, da, de or pt")] = "en",
    store: StoreOption = None,
) -> None:
    """Print a signed survey link for one customer (and order).

    Example: klantreis surveys link --base-url https://shop.example --user 42 --order A-17
    """
    try:
        with open_store(store) as handle:
            token = make_token(handle, SurveyLink(kind, user, None, order, language))
    except SurveyError as exc:
        raise CliError(f"--{exc.field.replace('_id', '')}: {exc.reason}", 2) from None
    typer.echo(f"{base_url.rstrip('/')}/s/{token}")


@surveys_app.command("scores")
@friendly_errors
@query_command(SurveyScoresQuery)
def scores(query: SurveyScoresQuery, store: StoreOption = None, json: JsonOption = False) -> None:
    """NPS (-100..100), CSAT (% satisfied) and CES (mean effort, 1..7) per group.

    Example: klantreis surveys scores --by phase --kind nps
    """
    try:
        with _existing(store) as kr:
            rows = kr.run("survey_scores", query).to_pylist()
    except SurveyError as exc:
        raise CliError(f"--{exc.field}: {exc.reason}", 2) from None
    if json:
        print_json(rows)
        return
    table = Table("kind", query.by, "answers", "value")
    for row in rows:
        table.add_row(row["kind"], str(row["group"]), str(row["answers"]), f"{row['value']:.1f}")
    console.print(table)


@surveys_app.command("send-review-requests")
@friendly_errors
def send_requests(
    base_url: BaseUrl,
    kind: Annotated[str, typer.Option("--kind", help="nps, csat or ces")] = "nps",
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """E-mail a survey link for each delivered order of a consenting customer, once per order.

    Uses the [smtp] section of klantreis.toml.

    Example: klantreis surveys send-review-requests --base-url https://shop.example/klantreis
    """
    from klantreis.act.notify import SmtpConfig
    from klantreis.act.review_requests import send_review_requests

    with _existing(store) as kr:
        smtp = SmtpConfig.from_settings(kr.settings)
        if smtp is None:
            raise CliError("klantreis.toml has no [smtp] section; review requests need one", 2)
        run = send_review_requests(kr, smtp, base_url=base_url, kind=kind)
    if json:
        print_json(run.__dict__)
        return
    console.print(f"sent {len(run.sent)} review requests", highlight=False)
    for order, reason in run.failed.items():
        console.print(f"not sent for order {order}: {reason}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(surveys_app, name="surveys")
