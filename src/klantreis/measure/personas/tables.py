"""The tables personas keep in the store, and the one way rows are written into them.

`person_personas (person_id, persona, source)` is the contract every analysis cuts by
(measure/filters.py): `source` is 'discovered' (one per person at most) or 'rule' (any number).
`personas` describes each group; `persona_models` keeps the fitted scaler and clustering so new
persons are assigned without clustering everything again.
"""

from __future__ import annotations

import pyarrow as pa

from klantreis.store import Store
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table

PERSON_PERSONAS = register_table(
    TableSpec(
        "person_personas",
        """CREATE TABLE IF NOT EXISTS person_personas (
    person_id VARCHAR,
    persona VARCHAR,
    source VARCHAR
)""",
        person_id_columns=("person_id",),
        derived=True,
    )
)
"""Marked derived so a store gets it only once personas are made: until then a persona cut
fails with "no personas yet" instead of silently matching nobody."""
PERSONAS = register_table(
    TableSpec(
        "personas",
        """CREATE TABLE IF NOT EXISTS personas (
    persona VARCHAR PRIMARY KEY,
    source VARCHAR,
    name VARCHAR,
    description VARCHAR,
    size BIGINT,
    share DOUBLE,
    profile VARCHAR,
    examples VARCHAR,
    model_id VARCHAR,
    created_at TIMESTAMP
)""",
        person_list_columns=("examples",),
    )
)
"""`examples` holds person ids (a JSON array); erasure takes the person out of it, and they are
re-read from `person_personas` when shown (see `examples_of`)."""
PERSONA_MODELS = register_table(
    TableSpec(
        "persona_models",
        """CREATE TABLE IF NOT EXISTS persona_models (
    model_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP,
    method VARCHAR,
    k BIGINT,
    criterion VARCHAR,
    seed BIGINT,
    features VARCHAR,
    fill VARCHAR,
    names VARCHAR,
    model BLOB
)""",
    )
)


def ensure_tables(store: Store) -> None:
    for spec in (PERSONAS, PERSONA_MODELS):
        store.register_table(spec)
    with store.write_lock:
        store.connection.execute(PERSON_PERSONAS.ddl)


def replace_rows(store: Store, table: str, rows: pa.Table, where_source: str | None) -> None:
    """Replace one source's rows of a personas table with `rows`, in one transaction.

    `table` is one of this module's constant names (never user input); `where_source` limits
    the delete to 'discovered' or 'rule' rows so the two kinds are refreshed independently.
    """
    if table not in {"person_personas", "personas"}:
        raise ValueError(f"not a personas table: {table!r}")
    con = store.connection
    with store.write_lock:
        con.register("_kr_persona_rows", rows)
        try:
            con.execute("BEGIN TRANSACTION")
            if where_source is None:
                con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant name
            else:
                con.execute(f"DELETE FROM {table} WHERE source = ?", [where_source])  # noqa: S608
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _kr_persona_rows")  # noqa: S608
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_kr_persona_rows")


def append_rows(store: Store, table: str, rows: pa.Table) -> None:
    """Add rows (assignment of new persons, a saved model)."""
    if table not in {"person_personas", "persona_models"}:
        raise ValueError(f"not a personas table: {table!r}")
    con = store.connection
    with store.write_lock:
        con.register("_kr_persona_rows", rows)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _kr_persona_rows")  # noqa: S608
        finally:
            con.unregister("_kr_persona_rows")


def publish(
    store: Store, engine: Engine, names: tuple[str, ...] = ("personas", "person_personas")
) -> None:
    """Hand the personas tables to an engine that keeps its own tables (Spark over a lake),
    so its analyses cut by persona: the store keeps them (they are small, one row per person
    at most per source) and the engine gets a copy, written like its model tables."""
    if engine.capabilities.writable:
        return
    for name in names:
        if name not in {"person_personas", "personas"}:
            raise ValueError(f"not a personas table: {name!r}")
        rows = store.engine.fetch(Query(f'SELECT * FROM "{name}"'))  # noqa: S608 - constant
        engine.create_table_from_arrow(name, rows)
