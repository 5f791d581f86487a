"""The console script loads only the module of the command it runs."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import typer

from klantreis.present.cli import app as cli_app
from klantreis.present.cli import commands

HEAVY = ("duckdb", "pandas", "pyarrow", "sqlglot", "fastapi")


def test_every_command_is_found_by_its_name() -> None:
    registered = {}
    for info in pkgutil.iter_modules(commands.__path__):
        app = typer.Typer()
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(app)
        for command in app.registered_commands:
            registered[command.name or command.callback.__name__] = info.name
        for group in app.registered_groups:
            registered[group.name] = info.name
    assert registered == cli_app.COMMANDS


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
    assert "klantreis.measure.journey_map" not in loaded


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
