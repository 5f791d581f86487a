"""Judging every rule on DuckDB stores the rules' shared events first (a temporary table of the
connection) and reads them from there: the cases are those of the one query Spark runs, row
by row, and nothing of the scratch table is left in the store.

Why: DuckDB hands a common table read by every rule (about forty readers) to each reader as
it is made; under a short memory cap each reader's copy spilled (10M events under 1.2GB:
38 GB written to disk, 114 s of CPU for the one statement; docs/scaling.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations import cases
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.compile import Context, at_moment, cases_query
from klantreis.measure.expectations.kinds.base import EVENTS_TABLE
from klantreis.measure.expectations.ruleset import ExpectationSettings, active_rules
from klantreis.model import load_definition
from klantreis.model.build import model_definition
from klantreis.store.engines.duckdb.engine import DuckDBEngine
from klantreis.store.schema import EVENT_ARROW_SCHEMA

MOMENT = datetime(2026, 12, 31)


@pytest.fixture(scope="module")
def events() -> pa.Table:
    batches = simulate(SimulatorConfig(persons=200, seed=5)).iter_batches(1_000_000)
    return pa.concat_tables(list(batches)).cast(EVENT_ARROW_SCHEMA)


def _rows(kr: klantreis.Klantreis, sql: str) -> list[str]:
    return sorted(repr(tuple(r.values())) for r in kr.sql(sql).to_pylist())


def test_every_rule_reads_the_shared_events_stored_once(
    tmp_path: Path, events: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(events)
    judging: list[str] = []
    real = DuckDBEngine.create_table_as

    def seen(self, name, query, /, **params):  # the real statement runs
        if name == "expectation_cases":
            judging.append(query.tree.sql("duckdb"))
        return real(self, name, query, **params)

    monkeypatch.setattr(DuckDBEngine, "create_table_as", seen)
    cases._compiled.cache_clear()
    assert ensure_cases(kr, now=MOMENT).rebuilt
    assert len(judging) == 1
    assert f"{EVENTS_TABLE} AS (" not in judging[0], "the shared events are a common table"
    assert f"FROM {EVENTS_TABLE}" in judging[0]

    # the cases of the one statement (with its common table), as Spark runs it
    rules = active_rules(ExpectationSettings.from_settings(kr.settings))
    phases = tuple(load_definition(model_definition(kr)).phase_ids)
    one = at_moment(cases_query(rules, Context(as_of=None, phases=phases)), MOMENT)
    sql = one.tree.sql("duckdb")
    assert f"{EVENTS_TABLE} AS (" in sql
    judged = _rows(kr, "SELECT * FROM expectation_cases")
    assert len(judged) > 100
    assert judged == _rows(kr, sql)
    found = kr.sql("SELECT DISTINCT status FROM expectation_cases").to_pylist()
    assert {"met", "breached"} <= {r["status"] for r in found}

    tables = kr.sql("SELECT database_name, table_name FROM duckdb_tables()").to_pylist()
    assert EVENTS_TABLE not in {t["table_name"] for t in tables}, "the scratch table is left"
    kr.close()
