"""Docs that must stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from klantreis.collect.vocabulary import EVENTS
from klantreis.present.cli.app import app

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_event_name_is_documented():
    text = (DOCS / "events.md").read_text()
    missing = [name for name in EVENTS if f"`{name}`" not in text]
    assert missing == []


def test_every_cli_command_is_in_the_readme():
    readme = README.read_text()
    runner = CliRunner()
    names = []
    for command in app.registered_commands:
        names.append(command.name or command.callback.__name__)
    for group in app.registered_groups:
        names.append(group.name)
    missing = [n for n in names if f"klantreis {n}" not in readme]
    assert missing == [], f"commands missing from README: {missing}"
    assert runner.invoke(app, ["--help"]).exit_code == 0
