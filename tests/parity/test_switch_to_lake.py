"""A shop moves from its DuckDB file to a lake and Spark by configuration, and gets the same map.

What a user does, each step a real `klantreis` process: a shop on DuckDB (`klantreis demo`,
the map in six phases and in AIDA); then the steps of docs/scaling.md "Moving to a lake and
Spark": `[store]` and `[engine]` in klantreis.toml, `klantreis lake load` (the store's events
into the lake, its keys published for collectors), a collector running into the lake, the
scheduled jobs (`voice update`, `opportunities`) and `klantreis map --json` on Spark, beside
the running collector. The maps are compared as JSON (numbers to 6 significant digits, as the
parity suite does).
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson
import pytest
from servers import Server, cli

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


def _map(env: dict[str, str], *args: str) -> Any:
    result = cli("map", *args, "--json", env=env, timeout=SPARK_CLI_TIMEOUT, check=True)
    return _rounded(orjson.loads(result.stdout))


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
    cli("demo", "--persons", "12", "--no-browser", "--out", str(tmp_path / "demo"), env=env,
        timeout=SPARK_CLI_TIMEOUT, check=True)  # fmt: skip
    on_duckdb = {"six-phase": _map(env), "aida": _map(env, "--definition", "aida")}
    events = orjson.loads(cli("stats", "--json", env=env, check=True).stdout)

    # 2. The switch: configuration, and the store's events into the lake.
    config.write_text(
        f'[store]\nkind = "lake"\npath = "{lake}"\nstate = "{shop}"\n'
        f'[engine]\nname = "spark"\nevents_path = "{lake}"\ntables_path = "{lake / "tables"}"\n'
        'master = "local[2]"\nshuffle_partitions = 2\ndriver_memory = "2g"\n'
    )
    loaded = orjson.loads(cli("lake", "load", "--json", env=env, check=True).stdout)
    assert loaded["events"] == events["events"]

    # 3. A collector into the lake, running while the commands below write the state file.
    key = cli("keys", "create", "--name", "shop", env=env, check=True).stdout.strip()
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
        # 4. The scheduled jobs and the map, on Spark.
        for job in (("voice", "update"), ("opportunities", "--json")):
            cli(*job, env=env, timeout=SPARK_CLI_TIMEOUT, check=True)
        on_spark = {"six-phase": _map(env), "aida": _map(env, "--definition", "aida")}
    finally:
        collector.stop()
    return {"duckdb": on_duckdb, "spark": on_spark}


def test_a_duckdb_shop_switches_to_the_lake_and_spark_and_gets_the_same_map(maps):
    assert maps["spark"]["six-phase"] == maps["duckdb"]["six-phase"]


def test_the_aida_map_is_the_same_after_the_switch(maps):
    assert maps["spark"]["aida"] == maps["duckdb"]["aida"]
