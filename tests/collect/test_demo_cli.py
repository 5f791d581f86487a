"""`klantreis demo` as a user runs it, with its output going to a file (a CI log): readable
tables, the event counts explained, and the map's place named when no browser opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import klantreis

pytestmark = pytest.mark.slow


def test_demo_output_in_a_log_explains_counts_and_names_the_map(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["BROWSER"] = "false"  # a "browser" that fails, as on a server without one
    source = str(Path(klantreis.__file__).resolve().parents[1])  # this checkout, from any cwd
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "klantreis.present.cli.app",
                "demo",
                "--persons",
                "60",
                "--out",
                str(tmp_path / "out"),
                "--store",
                str(tmp_path / "demo.duckdb"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )
    text = log.read_text()
    assert done.returncode == 0, text
    header = next(line for line in text.splitlines() if "phase" in line and "┃" in line)
    assert "┃ persons ┃" in header and "median time" in header  # not folded letter by letter
    assert "are steps of a journey (the map's figure)" in text
    assert "identify/alias/group messages" in text
    assert "visitors who only look around" in text
    map_path = tmp_path / "out" / "journey-map.html"
    assert map_path.exists()
    assert f"No web browser could be opened here; open the map yourself: {map_path}" in text
    # each step with its wall and CPU seconds, so a user sees what a long demo spent its time on
    steps = text[text.index("Time per step") :]
    for step in (
        "simulating and storing events",
        "simulating (1 process)",
        "building journeys",
        "reading what customers said",
        "drawing the journey map",
        "total",
    ):
        row = next(line for line in steps.splitlines() if f" {step} " in line)
        wall, cpu = (float(cell) for cell in row.strip("│ ").split("│")[1:3])
        assert wall > 0 and cpu > 0, row


def test_stats_says_which_events_the_map_counts_and_what_stitching_refused(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from klantreis.collect.simulator import SimulatorConfig, simulate
    from klantreis.present.cli.app import app

    store = tmp_path / "s.duckdb"
    shop = simulate(SimulatorConfig(persons=400, seed=3, days=60, shared_device_share=0.2))
    with klantreis.open(store) as kr:
        kr.store.append(shop.events)
    result = CliRunner().invoke(app, ["stats", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "of the events are steps of a journey" in result.output
    assert "identity links refused" in result.output
    assert "shared_anonymous_id" in result.output
