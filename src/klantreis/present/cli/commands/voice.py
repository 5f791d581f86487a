"""`klantreis voice`: what customers say, per topic and phase; `voice score` for loose texts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from klantreis.measure.voice.scoring import TextScore, VoiceScorer
from klantreis.present.cli.options import (
    CliError,
    JsonOption,
    console,
    friendly_errors,
    print_json,
)

voice_app = typer.Typer(
    help="Voice of the customer: sentiment and topics of reviews, tickets, chats and surveys.",
)


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
    json: JsonOption = False,
) -> None:
    """Score texts (language, sentiment, topics) without storing anything.

    Example: klantreis voice score --text-file reviews.txt --json
    """
    lines = read_texts(text_file)
    scores = VoiceScorer().score_many([text for _, text in lines])
    if json:
        print_json([{"line": n, **s.as_dict()} for (n, _), s in zip(lines, scores, strict=True)])
        return
    _print_scores([n for n, _ in lines], scores)


def _print_scores(numbers: list[int], scores: list[TextScore]) -> None:
    table = Table("line", "lang", "sentiment", "label", "topics", "text")
    for number, s in zip(numbers, scores, strict=True):
        table.add_row(
            str(number), s.language, f"{s.sentiment:+.2f}", s.label,
            ", ".join(s.topics), escape(s.text[:80]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(voice_app, name="voice")
