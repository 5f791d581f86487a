"""The engine seam: a registry with declared capabilities, the same file roles in every engine
folder, and unknown engines or settings refused by name."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import klantreis.store.engines as engines_package
from klantreis.config import ConfigError, Settings, load_settings
from klantreis.store import Store
from klantreis.store.engines import capabilities, engines, open_engine, register_engine
from klantreis.store.engines.base import Capabilities, EngineFactory

ROLES = {"__init__.py", "configuration.py", "dialect.py", "engine.py", "factory.py"}


def test_registry_declares_capabilities_without_opening_engines():
    found = engines()
    assert list(found)[:2] == ["duckdb", "spark"]
    assert capabilities("duckdb") == Capabilities("duckdb", "duckdb", writable=True, row_ids=True)
    assert capabilities("spark").row_ids is False
    assert capabilities("spark").writable is False
    assert all(f.capabilities.exact_distinct for f in found.values())
    assert "events_path" in found["spark"].options


def test_every_engine_folder_has_the_same_file_roles():
    root = Path(engines_package.__file__).parent
    folders = [p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert {f.name for f in folders} >= {"duckdb", "spark"}
    for folder in folders:
        assert {p.name for p in folder.glob("*.py")} >= ROLES, folder.name
        factory = importlib.import_module(f"klantreis.store.engines.{folder.name}.factory")
        assert isinstance(factory.FACTORY, EngineFactory)
        assert factory.FACTORY.capabilities.name == folder.name


def test_unknown_engine_name_is_refused_naming_the_known(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "klantreis.toml").write_text('[engine]\nname = "duckbd"\n')
    with pytest.raises(ConfigError, match=r"duckbd.*duckdb, spark") as caught:
        load_settings(tmp_path / "s.duckdb")
    assert caught.value.field == "engine.name"


def test_duckdb_refuses_settings_it_does_not_take(tmp_path):
    settings = Settings(tmp_path / "s.duckdb", "duckdb", {"memroy_limit": "4GB"})
    with Store(settings.store) as store, pytest.raises(ConfigError, match="memroy_limit"):
        open_engine(settings, store)
    with Store(settings.store) as store:
        assert open_engine(Settings(settings.store), store) is store.engine


def test_an_engine_registered_from_outside_is_opened_by_name(tmp_path, monkeypatch):
    opened = []

    def open_fake(settings, store):
        opened.append(settings.engine)
        return store.engine

    fake = EngineFactory(Capabilities("fake", "duckdb", writable=False), open_fake)
    monkeypatch.setitem(engines_package._registry, "fake", fake)
    register_engine(fake)
    with Store(tmp_path / "s.duckdb") as store:
        open_engine(Settings(tmp_path / "s.duckdb", "fake"), store)
    assert opened == ["fake"]


def test_every_engine_answers_a_stored_tables_rows_as_it_is_now(tmp_path):
    """`stored_rows` is the engine's (pages ask it without knowing the engine): an engine
    that cannot tell a job's new version answers from the table each time; the lake's reader
    keeps them per version (`tests/store/test_lake_reader.py`)."""
    with Store(tmp_path / "s.duckdb") as store:
        engine = store.engine  # a table of its own: a store may already hold `personas`
        engine.execute("CREATE TABLE chosen AS SELECT 'a' AS persona, 3 AS size")
        query = "SELECT persona, size FROM chosen ORDER BY persona"
        assert engine.stored_rows(query, "chosen") == [{"persona": "a", "size": 3}]
        engine.execute("INSERT INTO chosen VALUES ('b', 4)")
        assert engine.stored_rows(query, "chosen") == engine.rows(query)
        assert len(engine.stored_rows(query, "chosen")) == 2


@pytest.mark.spark
@pytest.mark.slow
def test_spark_engines_in_one_process_do_not_see_each_others_views() -> None:
    """Two shops open on Spark in one process: the views one registers (its `voice`, say) are
    not read by the other, which would take them for its own."""
    pytest.importorskip("pyspark")
    import pyarrow as pa

    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    config = SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    first = SparkEngine(engine_session(config), config)
    second = SparkEngine(engine_session(config), config)
    try:
        first.register_arrow("voice", pa.table({"text_id": ["t1"]}))
        assert first.has_table("voice")
        assert not second.has_table("voice")
    finally:
        first.close()
        second.close()
