"""A shop moves from its DuckDB file to a lake and Spark by configuration, and gets the same map.

What a user does, with real `klantreis` commands: a shop on DuckDB (`klantreis demo`, the map
in six phases and in AIDA); then the steps of docs/scaling.md "Moving to a lake and Spark":
`[store]` and `[engine]` in klantreis.toml, `klantreis lake load` (the store's events into the
lake, its keys published for collectors), a collector running into the lake, the scheduled jobs
(`voice update`, `opportunities`) and `klantreis map --json` on Spark, beside the running
collector. The maps are compared as JSON (numbers to 6 significant digits, as the parity suite
does).

The process boundaries this test is about are kept: the collector is its own `klantreis serve`
process writing into the lake while the jobs run, and each stage (the shop on DuckDB, the
switch, the jobs on Spark) is a new process that finds only what the one before left in the
files. The commands of one stage run one after another in that stage's process
(`servers.cli_steps`): a process per command started a JVM per Spark command (about 20 CPU
seconds each, and a cold JIT for its queries), which made this module the suite's longest
chain. That the next process reads a model Spark wrote back is tests/model/test_spark_lake.py's.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson
import pytest
from servers import Server, cli_steps

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SPARK_CLI_TIMEOUT = 3600
"""Seconds a Spark command may take: a new JVM and local[2] jobs on a loaded 2-core runner."""


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


MAPS = (("six-phase", ("map", "--json")), ("aida", ("map", "--definition", "aida", "--json")))
"""The two maps each side draws: `klantreis map --json`, in six phases and in AIDA."""


def _maps(done: list[Any]) -> dict[str, Any]:
    """The maps of `MAPS`, from the last steps of a `cli_steps` run."""
    return {
        name: _rounded(orjson.loads(result.stdout))
        for (name, _), result in zip(MAPS, done[-len(MAPS) :], strict=True)
    }


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The maps of one shop on DuckDB and, after the switch, on Spark (the steps above)."""
    pytest.importorskip("pyspark")
    tmp_path = tmp_path_factory.mktemp("switch")
    shop = tmp_path / "klantreis.duckdb"
    lake = tmp_path / "lake"
    config = tmp_path / "klantreis.toml"
    env = {"KLANTREIS_CONFIG": str(config)}

    # 1. A shop on DuckDB: events, model, voice, cases, opportunities, the map.
    config.write_text(f'[store]\npath = "{shop}"\n')
    demo = ("demo", "--persons", "12", "--no-browser", "--out", str(tmp_path / "demo"))
    done = cli_steps(
        demo, ("stats", "--json"), *(step for _, step in MAPS), env=env, timeout=SPARK_CLI_TIMEOUT
    )
    events = orjson.loads(done[1].stdout)
    on_duckdb = _maps(done)

    # 2. The switch: configuration, and the store's events into the lake.
    config.write_text(
        f'[store]\nkind = "lake"\npath = "{lake}"\nstate = "{shop}"\n'
        f'[engine]\nname = "spark"\nevents_path = "{lake}"\ntables_path = "{lake / "tables"}"\n'
        'master = "local[2]"\nshuffle_partitions = 2\ndriver_memory = "2g"\n'
    )
    load, keys = cli_steps(
        ("lake", "load", "--json"), ("keys", "create", "--name", "shop"), env=env
    )
    loaded = orjson.loads(load.stdout)
    assert loaded["events"] == events["events"]

    # 3. A collector into the lake, running while the commands below write the state file.
    key = keys.stdout.strip()
    collector = Server(shop, config=None, env=env).start()
    try:
        answer = httpx.post(
            f"{collector.url}/v1/batch",
            content=orjson.dumps({"batch": [{"type": "track", "event": "No person"}]}),
            auth=(key, ""),
            timeout=30,
        )
        # the key is known (not 401); the event is quarantined, so the map stays the same
        assert answer.status_code == 400 and answer.json()["rejected"], answer.text
        # 4. The scheduled jobs and the map, on Spark (one JVM for them all).
        jobs = (("voice", "update"), ("opportunities", "--json"))
        done = cli_steps(*jobs, *(step for _, step in MAPS), env=env, timeout=SPARK_CLI_TIMEOUT)
        on_spark = _maps(done)
    finally:
        collector.stop()
    return {"duckdb": on_duckdb, "spark": on_spark}


def test_a_duckdb_shop_switches_to_the_lake_and_spark_and_gets_the_same_map(maps):
    assert maps["spark"]["six-phase"] == maps["duckdb"]["six-phase"]


def test_the_aida_map_is_the_same_after_the_switch(maps):
    assert maps["spark"]["aida"] == maps["duckdb"]["aida"]
