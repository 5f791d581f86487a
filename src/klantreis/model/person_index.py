"""An index of `journey_events` by person, kept by the server's routine: a person's timeline
finds that person's rows without reading every row group of the table.

`journey_events` is written in the order of `events` (time), so one person's rows lie in many
row groups, and its `person_id` column's zone maps cannot tell them apart (DuckDB keeps the
first eight characters of a text column's smallest and largest value: every simulated and
most real ids share them). At 10M events a person's timeline read all 83 row groups for a few
hundred rows. An ART index on the column finds them directly; DuckDB uses it for a plain
equality filter, not under a top-N (the ordering's dynamic filter), so the timeline's query
selects the person's rows in a materialized CTE and orders them outside it.

The routine's model job keeps it (`ensure_person_index`, after the model is up to date): a
full build replaces the table and drops the index with it, so the next model job creates it
again; a refresh deletes and inserts the changed persons' rows, which DuckDB keeps in the
index itself. Without it (a store the routine never ran on, another engine) the same query
reads the table as before and returns the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klantreis.model.context import Context

INDEX = "journey_events_by_person"
"""The index's name (on `journey_events (person_id)`)."""


def has_person_index(kr: Context) -> bool:
    if kr.engine.capabilities.name != "duckdb":
        return False
    rows = kr.store.connection.execute(
        "SELECT count(*) FROM duckdb_indexes() WHERE index_name = ? AND table_name = ?",
        [INDEX, "journey_events"],
    ).fetchall()
    return bool(rows[0][0])


def ensure_person_index(kr: Context) -> bool:
    """Create the index when the store has `journey_events` and not the index; returns whether
    it created it (at 10M events about 8 s of CPU, once per full build)."""
    if kr.engine.capabilities.name != "duckdb" or kr.store.read_only:
        return False
    if not kr.engine.has_table("journey_events") or has_person_index(kr):
        return False
    with kr.store.write_lock:
        kr.store.connection.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON journey_events (person_id)"
        ).fetchall()
    return True
