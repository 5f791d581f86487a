"""Tables of the store: each declared once, with its columns, key and person columns.

A table's declaration (`TableSpec`) is its contract: the DDL that creates it, the Arrow schema
that test helpers and readers use, the columns the model's queries must produce, the table list
of docs/architecture.md, and the person columns through which `klantreis export` and
`klantreis erase` reach every place a person is stored. Modules that own a table declare it
with `register_table` at import (the store never imports the stages above it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
"""The SQL types a declared column may have, and the Arrow type each reads back as."""


@dataclass(frozen=True)
class Column:
    """One column of a declared table: its name and SQL type (a key of `ARROW_TYPES`)."""

    name: str
    type: str
    compression: str | None = None
    """DuckDB's storage for the column when not its own choice (`USING COMPRESSION ...`)."""

    def __post_init__(self) -> None:
        if self.type not in ARROW_TYPES:
            raise ValueError(f"column {self.name}: type {self.type!r} is not one of {ARROW_TYPES}")

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    @property
    def storage(self) -> str:
        """The DDL's storage clause: empty unless `compression` is set."""
        return f" USING COMPRESSION {self.compression}" if self.compression else ""


def columns(*pairs: tuple[str, str] | Column) -> tuple[Column, ...]:
    """`columns(("person_id", "VARCHAR"), ...)`: a declaration's columns, in order (a `Column`
    where one needs more than its name and type)."""
    return tuple(p if isinstance(p, Column) else Column(*p) for p in pairs)


@dataclass(frozen=True)
class TableSpec:
    """A stored table: its columns, key, DDL and which columns identify the person of a row.

    `person_columns` hold raw ids (user id, anonymous id, e-mail hash); `person_id_columns`
    hold the stitched person id that the model assigns. Either makes the table erasable.
    A table declared with `columns` gets its DDL made from them (`ddl` may then be left empty);
    a derived table is made by a query, whose result must have exactly these columns.
    """

    name: str
    ddl: str = ""
    person_columns: tuple[str, ...] = ()
    person_id_columns: tuple[str, ...] = ()
    person_list_columns: tuple[str, ...] = ()
    """JSON arrays that may name persons (`personas.examples`): an erasure takes the person out
    of the array and keeps the row; an export shows the row."""
    derived: bool = False
    """Derived tables are rebuilt from events by the model; erasure deletes from them too."""
    columns: tuple[Column, ...] = field(default=())
    key: tuple[str, ...] = ()
    """The columns that identify a row (the primary key of a stored table)."""
    doc: str = ""
    """What a row is, in a few words (docs/architecture.md shows it)."""

    def __post_init__(self) -> None:
        names = self.column_names
        unknown = [
            c for c in (*self.key, *self.person_columns, *self.person_id_columns) if c not in names
        ]
        if self.columns and unknown:
            raise ValueError(f"table {self.name}: {unknown} are not among its columns")
        if self.columns and not self.ddl:
            object.__setattr__(self, "ddl", self.create_sql())

    @property
    def stored_as_declared(self) -> bool:
        """Whether a table made by a query must be made from this DDL (a column's storage is
        set) rather than take the query's columns as they come."""
        return any(c.compression for c in self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the table's rows (what a reader gets, what a test feeds)."""
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    def create_sql(self, name: str | None = None, *, key: bool = True) -> str:
        """`CREATE TABLE IF NOT EXISTS` with the declared columns and (unless `key` is False:
        a bulk load adds it afterwards) the key."""
        body = [f"{c.name} {c.type}{c.storage}" for c in self.columns]
        if self.key and key:
            body.append(f"PRIMARY KEY ({', '.join(self.key)})")
        inner = ",\n    ".join(body)
        return f"CREATE TABLE IF NOT EXISTS {name or self.name} (\n    {inner}\n)"

    def projection(self) -> str:
        """`CAST(col AS type) AS col, ...`: what a query's result is cast to, in order."""
        return ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in self.columns)


TABLES: dict[str, TableSpec] = {}


def register_table(spec: TableSpec) -> TableSpec:
    """Declare a table so the store creates it and erasure/export reach it."""
    TABLES[spec.name] = spec
    return spec


EVENTS = register_table(
    TableSpec(
        "events",
        columns=columns(
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
        ),
        key=("message_id",),
        person_columns=("user_id", "anonymous_id", "previous_id"),
        doc="canonical events: Segment field names in snake_case, JSON objects as text, UTC",
    )
)
"""Canonical event row: Segment field names in snake_case; JSON objects kept as text so the
same Parquet/SQL works on every engine. Timestamps are UTC without zone."""

EVENT_COLUMNS: tuple[tuple[str, str], ...] = tuple((c.name, c.type) for c in EVENTS.columns)
EVENT_ARROW_SCHEMA = EVENTS.arrow_schema

EVENTS_STAGED = register_table(
    TableSpec(
        "events_staged",
        columns=EVENTS.columns,
        person_columns=EVENTS.person_columns,
        doc="acknowledged collector events on their way into `events`",
    )
)
"""Acknowledged collector events on their way into `events` (see `Store.stage`): the same
columns without the message-id key, so appending costs no index lookup. Emptied by
`Store.merge_staged` within about a second; erasure and export reach it like `events`."""

QUARANTINE = register_table(
    TableSpec(
        "quarantine",
        columns=columns(
            ("quarantine_id", "VARCHAR"),
            ("received_at", "TIMESTAMP"),
            ("source", "VARCHAR"),
            ("file", "VARCHAR"),
            ("line", "BIGINT"),
            ("column_name", "VARCHAR"),
            ("reason", "VARCHAR"),
            ("raw", "VARCHAR"),
            ("message_id", "VARCHAR"),
            ("user_id", "VARCHAR"),
            ("anonymous_id", "VARCHAR"),
        ),
        key=("quarantine_id",),
        person_columns=("user_id", "anonymous_id"),
        doc="what could not become an event, with where it came from and why",
    )
)
QUARANTINE_COLUMNS: tuple[str, ...] = QUARANTINE.column_names

register_table(
    TableSpec(
        "meta",
        columns=columns(("key", "VARCHAR"), ("value", "VARCHAR")),
        key=("key",),
        doc="small key/value state (the model's fingerprint and watermark)",
    )
)
