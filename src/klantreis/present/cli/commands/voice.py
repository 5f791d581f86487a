"""`klantreis voice`: what customers say, per topic and phase; `voice score` for loose texts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

import klantreis
from klantreis.config import load_settings
from klantreis.measure.voice.analyses import VoiceQuery
from klantreis.measure.voice.scoring import TextScore, VoiceScorer
from klantreis.measure.voice.stored import update_voice
from klantreis.measure.voice.training import load_shop_model
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

voice_app = typer.Typer(
    help="Voice of the customer: sentiment and topics of reviews, tickets, chats and surveys.",
    invoke_without_command=True,
)


@voice_app.callback()
@friendly_errors
@query_command(VoiceQuery)
def summary(
    query: VoiceQuery,
    ctx: typer.Context,
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Topic volume, sentiment and trend with representative quotes (scores new texts first).

    Example: klantreis voice --phase service
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings(store)
    if not settings.store.exists():
        raise CliError(
            f"store {settings.store} does not exist; run `klantreis demo` or "
            "`klantreis import` first",
            2,
        )
    with klantreis.open(settings.store) as kr:
        result = kr.run("voice", query)
    rows = result.to_pylist()
    if json:
        print_json(rows)
        return
    if not rows:
        console.print("no customer texts match", highlight=False)
        return
    table = Table("topic", "phase", "texts", "sentiment", "neg %", "trend", "quotes")
    for row in rows:
        trend = "" if row["trend"] is None else f"{row['trend']:+.2f}"
        quotes = "\n".join(f"{q['label'][:3]}: “{q['text'][:120]}”" for q in row["quotes"])
        table.add_row(
            row["topic"],
            row["phase"] or "",
            str(row["texts"]),
            f"{row['sentiment']:+.2f}",
            f"{100 * row['negative_share']:.0f}",
            trend,
            escape(quotes),
        )
    console.print(table)


@voice_app.command("update")
@friendly_errors
def update(
    store: StoreOption = None,
    retrain: Annotated[
        bool, typer.Option("--retrain/--no-retrain", help="Retrain the shop model if needed.")
    ] = True,
    json: JsonOption = False,
) -> None:
    """Score the texts stored since the last run (and learn from rated reviews).

    Example: klantreis voice update
    """
    with open_klantreis(store) as kr:  # the configured engine: Spark scores on its workers
        result = update_voice(kr.store, kr.engine, retrain=retrain)
    if json:
        print_json(result.__dict__)
        return
    console.print(f"scored {result.scored} new texts ({result.note})", highlight=False)


def read_texts(path: Path) -> list[tuple[int, str]]:
    """(line number, text) for each non-blank line of a UTF-8 file."""
    if not path.is_file():
        raise CliError(f"{path}: no such file", 2)
    raw = path.read_bytes()
    texts = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CliError(
                f"{path}:{number}:{exc.start + 1}: not UTF-8 text (byte {line[exc.start]:#x})", 2
            ) from None
        if text.strip():
            texts.append((number, text.strip()))
    return texts


@voice_app.command("score")
@friendly_errors
def score(
    text_file: Annotated[
        Path, typer.Option("--text-file", help="UTF-8 file with one text per line.")
    ],
    store: StoreOption = None,
    json: JsonOption = False,
) -> None:
    """Score texts (language, sentiment, topics) without storing anything.

    Uses the shop's model when the store has one (see `voice update`), else the lexicons.

    Example: klantreis voice score --text-file reviews.txt --json
    """
    lines = read_texts(text_file)
    model = None
    settings = load_settings(store)
    if settings.store.exists():
        with open_store(store, read_only=True) as handle:
            model = load_shop_model(handle)
    scores = VoiceScorer(model).score_many([text for _, text in lines])
    if json:
        print_json([{"line": n, **s.as_dict()} for (n, _), s in zip(lines, scores, strict=True)])
        return
    _print_scores([n for n, _ in lines], scores)


def _print_scores(numbers: list[int], scores: list[TextScore]) -> None:
    table = Table("line", "lang", "sentiment", "label", "topics (their sentiment)", "text")
    for number, s in zip(numbers, scores, strict=True):
        table.add_row(
            str(number),
            s.language,
            f"{s.sentiment:+.2f}",
            s.label,
            ", ".join(f"{topic} {score:+.2f}" for topic, score, _ in s.topic_sentiment),
            escape(s.text[:80]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(voice_app, name="voice")
