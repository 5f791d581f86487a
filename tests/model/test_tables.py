"""Each table is declared once: the model makes exactly the declared columns, the helpers that
feed analysis tests use the same declaration, and docs/architecture.md lists them as declared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from measure.journeys import JOURNEY_EVENTS_SCHEMA, journeys_for

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.model import ensure_built
from klantreis.model.journey_events import JOURNEY_EVENTS
from klantreis.privacy import declared_tables
from klantreis.store.schema import TableSpec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BEGIN, END = "<!-- tables: generated from the declarations -->", "<!-- /tables -->"


def docs_rows(tables: dict[str, TableSpec]) -> str:
    """The table list of docs/architecture.md as the declarations make it: stored tables, then
    derived ones, each by name (the registry's order depends on which module was imported
    first, e.g. an import test's catalogue before the model)."""
    lines = ["| table | columns (`*`: key) | what a row is |", "|---|---|---|"]
    for spec in sorted(tables.values(), key=lambda s: (s.derived, s.name)):
        if not spec.columns:
            continue
        cols = ", ".join(
            f"`{c.name}`{'*' if c.name in spec.key else ''} {c.type}" for c in spec.columns
        )
        kind = " (derived)" if spec.derived else ""
        lines.append(f"| `{spec.name}`{kind} | {cols} | {spec.doc} |")
    return "\n".join(lines)


def test_docs_list_the_declared_tables() -> None:
    text = DOCS.read_text()
    found = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert found, f"docs/architecture.md has no {BEGIN} … {END} block"
    expected = docs_rows(declared_tables())
    assert found.group(1) == expected, (
        f"replace the block in docs/architecture.md with:\n{expected}"
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    kr = klantreis.open(tmp_path_factory.mktemp("contract") / "s.duckdb")
    for batch in simulate(SimulatorConfig(persons=60, seed=5)).iter_batches(50_000):
        kr.store.append(batch)
    ensure_built(kr)
    yield kr
    kr.close()


def test_the_model_makes_exactly_the_declared_tables(built) -> None:
    derived = {n: s for n, s in declared_tables().items() if s.derived and s.columns}
    model = {n for n in derived if built.engine.has_table(n)}
    assert {"identities", "journey_events", "sessions", "journeys", "persons", "phase_map"} <= model
    for name in sorted(model):
        schema = built.engine.fetch(f"SELECT * FROM {name} LIMIT 0").schema
        assert schema == derived[name].arrow_schema, name


def test_what_analysis_tests_feed_is_what_the_model_makes(built) -> None:
    made = built.engine.fetch("SELECT * FROM journey_events LIMIT 0").schema
    assert JOURNEY_EVENTS_SCHEMA == JOURNEY_EVENTS.arrow_schema == made
    assert journeys_for({"anna": [("Product Viewed", "09:00")]}).schema == made


def test_a_declared_storage_is_the_stored_tables_own(built) -> None:
    """The message ids of `journey_events` are stored uncompressed as declared (the build
    makes the table from its declaration, not from the query's columns); the other columns
    keep DuckDB's own choice."""
    declared = {c.name: c.compression for c in JOURNEY_EVENTS.columns}
    assert declared["message_id"] == "uncompressed"

    def storage(column: str) -> set[str]:
        rows = built.store.connection.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('journey_events') "
            "WHERE column_name = ? AND segment_type <> 'VALIDITY'",
            [column],
        ).fetchall()
        return {r[0] for r in rows}

    built.store.connection.execute("CHECKPOINT")
    assert storage("message_id") == {"Uncompressed"}
    assert "Uncompressed" not in storage("event")
    assert built.engine.fetch("SELECT * FROM journey_events LIMIT 0").schema == (
        JOURNEY_EVENTS.arrow_schema
    )
