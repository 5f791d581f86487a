"""What differs when klantreis's trees run on DuckDB: nothing, it is the source dialect.

Queries are written in the DuckDB dialect (`store/query.py`), so this engine generates them as
they are; the file is here so every engine folder has the same roles.
"""

from __future__ import annotations

from sqlglot import exp

from klantreis.store.query import SOURCE_DIALECT

DIALECT = SOURCE_DIALECT


def to_duckdb(tree: exp.Expression) -> str:
    """DuckDB SQL text for a tree."""
    return tree.sql(dialect=DIALECT)
