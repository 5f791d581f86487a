"""Tables of the store and the columns that tie their rows to a person.

Every table that holds data about a person is declared here (or registered by the module that
owns it) with its person columns, so that `klantreis export` and `klantreis erase` reach every
place a person is stored, including tables that later modules add.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("message_id", "VARCHAR"),
    ("type", "VARCHAR"),
    ("event", "VARCHAR"),
    ("name", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("anonymous_id", "VARCHAR"),
    ("previous_id", "VARCHAR"),
    ("group_id", "VARCHAR"),
    ("timestamp", "TIMESTAMP"),
    ("received_at", "TIMESTAMP"),
    ("channel", "VARCHAR"),
    ("properties", "VARCHAR"),
    ("traits", "VARCHAR"),
    ("context", "VARCHAR"),
    ("source", "VARCHAR"),
)
"""Canonical event row: Segment field names in snake_case; JSON objects kept as text so the
same Parquet/SQL works on every engine. Timestamps are UTC without zone."""

EVENT_ARROW_SCHEMA = pa.schema(
    [
        pa.field(name, pa.timestamp("us") if sql_type == "TIMESTAMP" else pa.string())
        for name, sql_type in EVENT_COLUMNS
    ]
)


@dataclass(frozen=True)
class TableSpec:
    """A stored table: its DDL and which columns identify the person a row is about.

    `person_columns` hold raw ids (user id, anonymous id, e-mail hash); `person_id_columns`
    hold the stitched person id that the model assigns. Either makes the table erasable.
    """

    name: str
    ddl: str
    person_columns: tuple[str, ...] = ()
    person_id_columns: tuple[str, ...] = ()
    person_list_columns: tuple[str, ...] = ()
    """JSON arrays that may name persons (`personas.examples`): an erasure takes the person out
    of the array and keeps the row; an export shows the row."""
    derived: bool = False
    """Derived tables are rebuilt from events by the model; erasure deletes from them too."""


_event_ddl = ",\n    ".join(
    f"{name} {sql_type}{' PRIMARY KEY' if name == 'message_id' else ''}"
    for name, sql_type in EVENT_COLUMNS
)

TABLES: dict[str, TableSpec] = {}


def register_table(spec: TableSpec) -> TableSpec:
    """Declare a table so the store creates it and erasure/export reach it."""
    TABLES[spec.name] = spec
    return spec


register_table(
    TableSpec(
        "events",
        f"CREATE TABLE IF NOT EXISTS events (\n    {_event_ddl}\n)",
        person_columns=("user_id", "anonymous_id", "previous_id"),
    )
)
_staged_ddl = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in EVENT_COLUMNS)
register_table(
    TableSpec(
        "events_staged",
        f"CREATE TABLE IF NOT EXISTS events_staged (\n    {_staged_ddl}\n)",
        person_columns=("user_id", "anonymous_id", "previous_id"),
    )
)
"""Acknowledged collector events on their way into `events` (see `Store.stage`): the same
columns without the message-id key, so appending costs no index lookup. Emptied by
`Store.merge_staged` within about a second; erasure and export reach it like `events`."""

register_table(
    TableSpec(
        "quarantine",
        """CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id VARCHAR PRIMARY KEY,
    received_at TIMESTAMP,
    source VARCHAR,
    file VARCHAR,
    line BIGINT,
    column_name VARCHAR,
    reason VARCHAR,
    raw VARCHAR,
    message_id VARCHAR,
    user_id VARCHAR,
    anonymous_id VARCHAR
)""",
        person_columns=("user_id", "anonymous_id"),
    )
)
register_table(
    TableSpec(
        "meta",
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    )
)
