"""`[engine]` memory_limit / threads / temp_directory reach the store's DuckDB connection."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import klantreis
from klantreis.config import ConfigError


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return str(con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0])


def test_engine_settings_are_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "klantreis.toml"
    spill = tmp_path / "spill"
    config.write_text(
        f'[engine]\nname = "duckdb"\nmemory_limit = "700MB"\nthreads = 1\n'
        f'temp_directory = "{spill}"\n'
    )
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    expected = duckdb.connect()
    expected.execute("SET memory_limit = '700MB'")
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        con = kr.engine.connection
        assert _setting(con, "memory_limit") == _setting(expected, "memory_limit")
        assert _setting(con, "threads") == "1"
        assert _setting(con, "temp_directory") == str(spill)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('memory_limit = "lots"', "[engine] memory_limit: an amount such as '6GB'"),
        ("threads = 0", "[engine] threads: a whole number of 1 or more, not 0"),
        ('memory = "6GB"', "[engine]: unknown setting 'memory'"),
    ],
)
def test_bad_engine_settings_name_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
):
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[engine]\nname = "duckdb"\n{line}\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    # refused as the store opens: its settings are in force from the first statement
    with pytest.raises(ConfigError, match=re.escape(message)):
        klantreis.open(tmp_path / "s.duckdb")


def test_spark_settings_left_in_the_file_do_not_stop_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = tmp_path / "klantreis.toml"
    config.write_text('[engine]\nname = "spark"\nmaster = "local[2]"\nevents_path = "lake"\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    monkeypatch.setenv("KLANTREIS_ENGINE", "duckdb")
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        assert kr.engine.capabilities.name == "duckdb"


def test_the_cap_is_in_force_before_the_store_opens_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The first statement on a store's connection sets `[engine]` memory_limit and
    temp_directory: the merge of staged events (checked against the message-id key) and
    every other statement of the open run under the cap, not DuckDB's default."""
    from klantreis.collect.simulator import SimulatorConfig, simulate
    from klantreis.store import Store

    path = tmp_path / "s.duckdb"
    events = simulate(SimulatorConfig(persons=3, seed=5)).events
    with Store(path) as store:  # acknowledged by a collector, merged at the next open
        store.stage(events)
    spill = tmp_path / "spill"
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[engine]\nmemory_limit = "700MB"\ntemp_directory = "{spill}"\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    # A second connection to the same file in this process shares its database, and sees
    # every statement the store's connection runs in DuckDB's query log.
    watcher = duckdb.connect(str(path))
    watcher.execute("CALL enable_logging('QueryLog')")
    with klantreis.open(path) as kr:
        stored = kr.store.connection.execute("SELECT count(*) FROM events").fetchall()[0][0]
    logged = watcher.execute(
        "SELECT message FROM duckdb_logs WHERE type = 'QueryLog' "
        "AND connection_id <> current_connection_id() ORDER BY timestamp, query_id"
    ).fetchall()
    watcher.close()
    statements = [message for (message,) in logged]
    assert stored == events.num_rows
    merge = next(i for i, s in enumerate(statements) if "FROM events_staged" in s)
    assert statements[0].startswith("SET memory_limit = '700MB'"), statements[:3]
    assert any(s.startswith("SET temp_directory") for s in statements[:merge]), statements
