"""Judging every rule on DuckDB stores the rules' shared events first (a temporary table of the
connection) and reads them from there: the cases are those of the one query Spark runs, row
by row, and nothing of the scratch table is left in the store.

Why: DuckDB hands a common table read by every rule (about forty readers) to each reader as
it is made; under a short memory cap each reader's copy spilled (10M events under 1.2GB:
8–21 GB written to disk, 138 s of CPU for the one statement; docs/scaling.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

import duckdb
import pyarrow as pa
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations import cases
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.compile import Context, at_moment, cases_query
from klantreis.measure.expectations.kinds import register_kind, unregister_kind
from klantreis.measure.expectations.kinds.base import (
    EVENTS_TABLE,
    Phrase,
    RuleKind,
    common,
    template,
)
from klantreis.measure.expectations.rules import RuleSpec, parse_rules
from klantreis.measure.expectations.ruleset import ExpectationSettings, active_rules
from klantreis.model import load_definition
from klantreis.model.build import model_definition
from klantreis.store.query import Query
from klantreis.store.schema import EVENT_ARROW_SCHEMA

MOMENT = datetime(2026, 12, 31)


@pytest.fixture(scope="module")
def events() -> pa.Table:
    batches = simulate(SimulatorConfig(persons=200, seed=5)).iter_batches(1_000_000)
    return pa.concat_tables(list(batches)).cast(EVENT_ARROW_SCHEMA)


def _rows(kr: klantreis.Klantreis, sql: str) -> list[str]:
    return sorted(repr(tuple(r.values())) for r in kr.sql(sql).to_pylist())


def _statements(kr: klantreis.Klantreis) -> list[str]:
    """What ran on the store since logging began, from DuckDB's own query log."""
    rows = kr.store.connection.execute(
        "SELECT message FROM duckdb_logs WHERE type = 'QueryLog' ORDER BY timestamp"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _types(kr: klantreis.Klantreis, sql: str) -> list[tuple[str, str]]:
    rows = kr.store.connection.execute(f"DESCRIBE {sql}").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def test_every_rule_reads_the_shared_events_stored_once(tmp_path: Path, events: pa.Table) -> None:
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(events)
    kr.store.connection.execute("CALL enable_logging('QueryLog')")
    cases._compiled.cache_clear()
    assert ensure_cases(kr, now=MOMENT).rebuilt
    ran = _statements(kr)
    kr.store.connection.execute("CALL disable_logging()")
    stored = [s for s in ran if "TEMPORARY TABLE" in s.upper() and EVENTS_TABLE in s]
    judging = [s for s in ran if "expectation_cases" in s and "FROM " + EVENTS_TABLE in s]
    assert len(stored) == 1, "the shared events are stored once"
    assert len(judging) > 10, "one statement per rule"
    assert all(f"{EVENTS_TABLE} AS (" not in s for s in judging), "a common table per rule"
    assert any(s.startswith(f"DROP TABLE IF EXISTS temp.{EVENTS_TABLE}") for s in ran)

    # the cases of the one statement (with its common table), as Spark runs it
    rules = active_rules(ExpectationSettings.from_settings(kr.settings))
    phases = tuple(load_definition(model_definition(kr)).phase_ids)
    one = at_moment(cases_query(rules, Context(as_of=None, phases=phases)), MOMENT)
    sql = one.tree.sql("duckdb")
    assert f"{EVENTS_TABLE} AS (" in sql
    judged = _rows(kr, "SELECT * FROM expectation_cases")
    assert len(judged) > 100
    assert judged == _rows(kr, sql)
    assert _types(kr, "expectation_cases") == _types(kr, f"({sql})")
    found = kr.sql("SELECT DISTINCT status FROM expectation_cases").to_pylist()
    assert {"met", "breached"} <= {r["status"] for r in found}

    tables = kr.sql("SELECT database_name, table_name FROM duckdb_tables()").to_pylist()
    assert EVENTS_TABLE not in {t["table_name"] for t in tables}, "the scratch table is left"
    kr.close()


# -- a kind whose cases fail while they are judged ---------------------------------------------
FAILING = """
WITH shaped AS (
    SELECT message_id AS case_id, person_id, journey_id, phase AS event_phase, channel,
           order_id, NULL AS case_key, timestamp AS started_at, NULL AS due_at, NULL AS ended_at,
           'met' AS status, error('a case that cannot be judged') AS detail,
           NULL AS value, NULL AS delighted
    FROM :events WHERE event = 'Order Completed'
)
SELECT * FROM shaped
"""


class FailingRule(RuleSpec):
    kind: Literal["failing"]

    def named_events(self) -> list[str]:
        return ["Order Completed"]


class Failing(RuleKind):
    name = "failing"
    spec = FailingRule
    terms: ClassVar = {"rule_kind": {"failing": {"en": "failing", "nl": "falend", "da": "fejler"}}}

    def cases(self, rule: FailingRule, ctx: Context) -> Query:
        return Query(template(FAILING), **common(rule, ctx))

    def threshold(self, rule: FailingRule) -> list[Phrase]:
        return []


FAILING_RULES = """
expectations:
  - id: cannot_judge
    kind: failing
    category: product quality
    phase: service
    title: {en: Cannot be judged}
"""


@pytest.fixture
def failing() -> Iterator[Failing]:
    kind = register_kind(Failing())
    yield kind
    unregister_kind("failing")


def test_a_judging_that_fails_keeps_the_cases_and_leaves_no_scratch_table(
    tmp_path: Path, events: pa.Table, failing: Failing
) -> None:
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(events)
    rules = active_rules(ExpectationSettings.from_settings(kr.settings))
    assert ensure_cases(kr, now=MOMENT, rules=rules).rebuilt
    before = _rows(kr, "SELECT * FROM expectation_cases")

    broken = [*rules, *parse_rules(FAILING_RULES, "failing.yaml")]
    with pytest.raises(duckdb.Error, match="cannot be judged"):
        ensure_cases(kr, now=datetime(2027, 1, 31), rules=broken)

    assert _rows(kr, "SELECT * FROM expectation_cases") == before
    tables = kr.sql("SELECT table_name FROM duckdb_tables()").to_pylist()
    assert EVENTS_TABLE not in {t["table_name"] for t in tables}, "the scratch table is left"
    again = ensure_cases(kr, now=MOMENT, rules=rules)
    assert not again.rebuilt and again.as_of == MOMENT
    kr.close()
