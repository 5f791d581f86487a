"""`klantreis import ...`: summaries, JSON, and one-line errors with exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from importing import EXAMPLES
from typer.testing import CliRunner

from klantreis.present.cli.app import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["import", *map(str, args)])


def _squeezed(text: str) -> str:
    """Text without whitespace: Rich wraps a long error line at the terminal width."""
    return re.sub(r"\s+", "", str(text))


def _says(output: str, *parts: object) -> bool:
    return all(_squeezed(part) in _squeezed(output) for part in parts)


def test_rees46_json_summary_and_rerun(rees46_file: Path, tmp_path: Path):
    store = tmp_path / "s.duckdb"
    result = _run("rees46", rees46_file, "--store", store, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_read"] == 17434
    assert summary["quarantined"] == 1
    assert summary["events_stored"] + summary["duplicates"] == summary["events"]
    again = json.loads(_run("rees46", rees46_file, "--store", store, "--json").stdout)
    assert again["events_stored"] == 0
    assert again["duplicates"] == summary["events"]


def test_csv_with_mapping_prints_a_table(tmp_path: Path):
    file = tmp_path / "reviews.csv"
    file.write_text(
        "review_id;created;order_ref;consumer_id;stars;title;text;language;verified\n"
        "r-1;1709893800;1041;c-1001;5;Top;Prima;nl;true\n"
    )
    result = _run("csv", file, "--mapping", EXAMPLES / "reviews.yaml", "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert "events stored" in result.stdout
    assert "Review Submitted" in result.stdout


def test_olist_missing_directory_is_exit_2(tmp_path: Path):
    result = _run("olist", tmp_path / "nope", "--store", tmp_path / "s.duckdb")
    assert result.exit_code == 2
    assert _says(result.output, f"{tmp_path / 'nope'}: no such directory")


def test_absent_column_is_one_line_naming_file_key_and_column(tmp_path: Path):
    file = tmp_path / "orders.csv"
    file.write_text("id,when,who\n1,2024-01-01,u\n")
    result = _run("csv", file, "-m", EXAMPLES / "orders.yaml", "--store", tmp_path / "s")
    assert result.exit_code == 2
    assert result.output.startswith("error:")
    assert result.output.strip().count("error:") == 1
    assert _says(
        result.output,
        f"{EXAMPLES / 'orders.yaml'}: events.0.timestamp: column 'created_at' is not in {file}",
    )
    assert "Traceback" not in result.output


def test_malformed_yaml_unknown_format_missing_file_are_exit_2(tmp_path: Path):
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("events: [\n")
    plain = tmp_path / "plain.yaml"
    plain.write_text("timestamp: a\nuser_id: b\nevents:\n  - event: Thing Happened\n")
    odd = tmp_path / "x.xls"
    odd.write_text("a,b\n1,2\n")
    cases = [
        (("csv", data, "-m", bad_yaml), "bad.yaml: malformed YAML at line"),
        (("csv", odd, "-m", plain), "x.xls: unknown format '.xls'"),
        (("csv", tmp_path / "gone.csv", "-m", plain), "gone.csv: no such file"),
        (("csv", data, "-m", tmp_path / "absent.yaml"), "absent.yaml: no such mapping file"),
    ]
    for args, expected in cases:
        result = _run(*args, "--store", tmp_path / "s")
        assert result.exit_code == 2, (args, result.output)
        assert _says(result.output, expected), result.output


def test_nothing_read_is_exit_1_everything_else_0(tmp_path: Path):
    header_only = tmp_path / "h.csv"
    header_only.write_text(
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
        "user_session\n"
    )
    result = _run("rees46", header_only, "--store", tmp_path / "s", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["rows_read"] == 0
    assert _says(result.output, f"nothing could be read from {header_only}")

    all_bad = tmp_path / "bad.csv"
    all_bad.write_text(header_only.read_text() + "not-a-time,view,1,2,,b,1.0,7,s\n")
    result = _run("rees46", all_bad, "--store", tmp_path / "s", "--json")
    assert result.exit_code == 0  # a row was read; it is in the quarantine
    assert json.loads(result.stdout)["quarantined"] == 1


def test_olist_json_summary(olist_dir: Path, tmp_path: Path):
    result = _run("olist", olist_dir, "--store", tmp_path / "s.duckdb", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["source"] == "import:olist"
    assert summary["events_by_name"]["Order Completed"] == 15000
    assert summary["events_stored"] == summary["events"] > 0
    assert summary["quarantined"] == 0


def test_csv_command_takes_a_builtin_mapping_name(rees46_file: Path, tmp_path: Path):
    head = tmp_path / "head.csv"
    head.write_text("".join(rees46_file.open().readlines()[:51]))
    result = _run("csv", head, "--mapping", "rees46", "--store", tmp_path / "s", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_read"] == 50
    assert summary["source"] == "import:rees46:head.csv"
