"""On Spark over a lake, the cases one process judged are read by the next, not judged again.

Judging writes `expectation_cases` (and `breaches`, `delights`) under the lake's `tables/`,
each write a new version folder named in `_current`; what they were judged on is kept beside
them. So a second `klantreis expectations` that judged again would switch `_current`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from servers import cli

from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.store.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SPARK_CLI_TIMEOUT = 1800
"""Seconds a Spark command may take: a new JVM and local[2] jobs on a loaded 2-core runner."""

JUDGED = ("expectation_cases", "breaches", "delights")


def _current(tables: Path) -> dict[str, str]:
    return {name: (tables / name / "_current").read_text() for name in JUDGED}


def _expectations(env: dict[str, str]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = cli("expectations", "--json", env=env, timeout=SPARK_CLI_TIMEOUT, check=True)
    answer = orjson.loads(result.stdout)
    if isinstance(answer, dict):
        answer.pop("seconds", None)
    return answer, time.perf_counter() - started


def test_a_second_process_reads_the_judged_cases_from_the_lake(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    lake = Lake(tmp_path / "lake")
    lake.append(simulate(SimulatorConfig(persons=12, days=30, seed=3)).events)
    tables = lake.path / "tables"
    config = tmp_path / "klantreis.toml"
    config.write_text(
        f'[store]\nkind = "lake"\npath = "{lake.path}"\nstate = "{tmp_path / "state.duckdb"}"\n'
        f'[engine]\nname = "spark"\nevents_path = "{lake.path}"\ntables_path = "{tables}"\n'
        'master = "local[2]"\nshuffle_partitions = 2\ndriver_memory = "2g"\n'
    )
    env = {"KLANTREIS_CONFIG": str(config)}
    cli("keys", "create", "--name", "shop", env=env, check=True)  # a lake shop's first step

    first, judging = _expectations(env)  # builds the model and judges
    judged = _current(tables)
    second, reading = _expectations(env)  # another process: reads what the first judged
    print(f"judging process {judging:.1f} s, reading process {reading:.1f} s")

    assert second == first
    assert _current(tables) == judged, "the second process judged the cases again"
    cases = next((tables / "expectation_cases").glob(judged["expectation_cases"]))
    assert any(cases.glob("*.parquet"))
