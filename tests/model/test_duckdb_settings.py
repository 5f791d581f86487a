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
    expected = pytest.raises(ConfigError, match=re.escape(message))
    with klantreis.open(tmp_path / "s.duckdb") as kr, expected:
        _ = kr.engine


def test_spark_settings_left_in_the_file_do_not_stop_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = tmp_path / "klantreis.toml"
    config.write_text('[engine]\nname = "spark"\nmaster = "local[2]"\nevents_path = "lake"\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    monkeypatch.setenv("KLANTREIS_ENGINE", "duckdb")
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        assert kr.engine.capabilities.name == "duckdb"
