"""Small result tables kept by an engine that only reads events (Spark, in the lake's
`tables_path`): the stored maps and scorecards. Such an engine has no row-level write, so a
row is replaced by writing the table back whole; it holds a row per map or scorecard kept."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from klantreis.store.engines.base import Engine
    from klantreis.store.query import Query

_writes = threading.Lock()
"""One rewrite at a time (each is a read, then a write of the whole table)."""


def replace_row(
    engine: Engine, name: str, schema: pa.Schema, row: dict[str, Any], keep: Query
) -> None:
    """`row` into the engine's table `name`, beside the rows the query `keep` selects from it
    (the others are dropped); the table written back whole with `schema`."""
    with _writes:
        kept = engine.rows(keep) if engine.has_table(name) else []
        for old in kept:
            for column, value in old.items():
                if isinstance(value, datetime):  # read back zoned; written as UTC, naive
                    old[column] = value.replace(tzinfo=None)
        engine.create_table_from_arrow(name, pa.Table.from_pylist([*kept, row], schema=schema))
