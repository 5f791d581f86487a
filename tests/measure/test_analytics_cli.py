"""The analytics commands end to end: real store, real model build, real CLI (and Spark)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.present.cli.app import app
from klantreis.store import Store

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
PEOPLE = {
    "anna": [
        ("Product Viewed", "09:00"),
        ("Product Added", "09:05"),
        ("Checkout Started", "09:10"),
        ("Order Completed", "09:12"),
    ],
    "bram": [("Product Viewed", "09:00"), ("Product Added", "09:30")],
    "cees": [("Product Viewed", "10:00")],
}


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLANTREIS_ENGINE", raising=False)
    monkeypatch.delenv("KLANTREIS_CONFIG", raising=False)
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story(PEOPLE))
    return path


def run(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_funnel_command_json(store_file: Path):
    out = run("funnel", *STEPS, "--window", "7d", "--store", str(store_file), "--dropoffs")
    assert [s["persons"] for s in out["steps"]] == [3, 2, 1, 1]
    assert [s["name"] for s in out["steps"]] == STEPS
    assert out["steps"][1]["dropped_person_ids"] == ["cees"]
    assert out["steps"][3]["median_seconds"] == 120.0


def test_paths_and_retention_commands(store_file: Path):
    paths = run(
        "paths", "--from-event", "Product Viewed", "--by", "event", "--store", str(store_file)
    )
    assert paths["persons"] == 3
    assert paths["paths"][0]["persons"] == 1
    retention = run("retention", "--store", str(store_file))
    assert retention["cohorts"][0]["persons"] == 3


def test_bad_window_is_one_line_error(store_file: Path):
    result = CliRunner().invoke(app, ["funnel", "A", "--window", "7x", "--store", str(store_file)])
    assert result.exit_code == 2
    assert "window" in result.output and "Traceback" not in result.output


def test_bad_where_names_the_option(store_file: Path):
    result = CliRunner().invoke(
        app, ["funnel", "A", "B", "--where", "9:a=b", "--store", str(store_file)]
    )
    assert result.exit_code == 2
    assert "where: '9:a=b': start with a step number 1..2" in result.output


@pytest.mark.spark
@pytest.mark.slow
def test_same_funnel_on_spark_from_exported_parquet(store_file: Path, tmp_path: Path):
    pytest.importorskip("pyspark")
    exported = run("engine", "export-parquet", str(tmp_path / "lake"), "--store", str(store_file))
    assert exported["tables"]["journey_events"] == 7
    assert exported["tables"]["phase_map"] == 4  # the event names checked on Spark too
    duck = run("funnel", *STEPS, "--store", str(store_file))
    (tmp_path / "klantreis.toml").write_text(
        f'[engine]\nname = "spark"\nevents_path = "{tmp_path / "lake"}"\nshuffle_partitions = 2\n'
    )
    spark = run("funnel", *STEPS, "--store", str(store_file))
    assert spark["engine"] == "spark"
    assert spark["steps"] == duck["steps"]
    misspelled = CliRunner().invoke(app, ["funnel", "Product Viewd", "--store", str(store_file)])
    assert misspelled.exit_code == 2 and "'Product Viewed'" in misspelled.output
