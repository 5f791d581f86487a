"""The console script loads only the module of the command it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
import typer.main

from klantreis.present.cli import app as cli_app

HEAVY = ("fastapi", "klantreis.measure.journey_map", "klantreis.measure.opportunities")
"""Loaded by other commands only. (The typed query of `voice` and `voice reputation`, needed to
build their options, still brings DuckDB, Arrow and pandas into every `voice` command.)"""


def _tree(app: typer.Typer, name: str) -> object:
    """A command's name and, for a group, its subcommands' names."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return sorted(getattr(command, "commands", {})) or name


def test_every_command_is_found_by_its_name() -> None:
    full = cli_app.build()
    names = sorted(typer.main.get_command(full).commands)  # type: ignore[attr-defined]
    assert names == sorted(cli_app.COMMANDS)
    for name in names:  # the modules of one command give it all its subcommands
        alone = cli_app.build(cli_app.modules_for([name, "--help"]))
        assert _tree(alone, name) == _tree(full, name), name


def _loaded(tmp_path: Path, *args: str) -> set[str]:
    """Modules a fresh `klantreis <args>` imported (from -X importtime)."""
    src = Path(cli_app.__file__).parents[3]
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "klantreis.present.cli.app", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return {
        line.split("|")[-1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_scoring_loose_texts_loads_no_store_and_no_analysis(tmp_path: Path) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("Snelle levering, top!\nThe parcel came late.\n", encoding="utf-8")
    loaded = _loaded(tmp_path, "voice", "score", "--text-file", str(texts), "--json")
    assert not [m for m in HEAVY if m in loaded]


def test_help_still_lists_every_command(tmp_path: Path) -> None:
    src = Path(cli_app.__file__).parents[3]
    run = subprocess.run(
        [sys.executable, "-m", "klantreis.present.cli.app", "--help"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0
    for name in cli_app.COMMANDS:
        assert f" {name} " in run.stdout, name
