"""JSON lines read line by line, so that one malformed line is quarantined, not fatal.

(A `.json` file that is one array of objects is read the same way, element by element.)

DuckDB's `read_json` stops at the first malformed line; here each line is read as text
(`read_csv` with a separator that cannot occur in JSON), checked with `json_valid`, and its keys
extracted as text columns, the way a CSV's cells are. Nested values stay JSON text, which the
mapping's `json` type reads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from klantreis.collect.imports.errors import ImportFailed
from klantreis.collect.imports.jsonpath import json_path
from klantreis.store.query import identifier

TEXT_COLUMN = "__json"
RECORDS_SQL = (
    "SELECT CAST(unnest(CAST(json_extract(content, $records) AS JSON[])) AS VARCHAR) AS __json "
    "FROM read_text($path)"
)
"""The array of objects at `$records` (`$` for a file that is one array; `$."reviews"` for
`{"reviews": [...]}`): element N is "line" N. Read as text, so each object keeps its own keys
and values exactly as written (read_json would merge all objects into one struct type)."""
LINES_SQL = (
    "SELECT json AS __json FROM read_csv($path, columns = {'json': 'VARCHAR'}, header = false, "
    "delim = chr(31), quote = '', escape = '', auto_detect = false)"
)
_KEYS_SQL = """
SELECT key FROM (
    SELECT unnest(json_keys(__json)) AS key, row_number() OVER () AS position
    FROM lines WHERE kr_is_object(__json)
) GROUP BY key ORDER BY min(position)
"""
_BAD_SQL = "SELECT __line, __json FROM batch WHERE __json IS NOT NULL AND NOT kr_is_object(__json)"
# CASE, not AND: json_type() raises on malformed text, and AND does not short-circuit.
_MACRO_SQL = (
    "CREATE OR REPLACE TEMP MACRO kr_is_object(x) AS "
    "CASE WHEN json_valid(x) THEN json_type(x) = 'OBJECT' ELSE false END"
)


def is_array(path: Path) -> bool:
    """Whether the file is one JSON array (its first non-blank character is `[`)."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def source_sql(path: Path, records: str | None) -> tuple[str, dict[str, str]]:
    """The query giving the file's objects as JSON text, one row each, and its parameters."""
    params = {"path": str(path)}
    if records is not None:
        return RECORDS_SQL, params | {"records": json_path(records)}
    if is_array(path):
        return RECORDS_SQL, params | {"records": "$"}
    return LINES_SQL, params


def keys(con: duckdb.DuckDBPyConnection, path: Path, records: str | None = None) -> list[str]:
    """Every key of the file's objects, in order of first appearance."""
    cursor = con.cursor()
    cursor.execute(_MACRO_SQL)
    sql, params = source_sql(path, records)
    if records is not None:
        found = cursor.execute(
            "SELECT json_type(json_extract(content, $records)) FROM read_text($path)", params
        ).fetchall()
        if not found or found[0][0] != "ARRAY":
            raise ImportFailed(f"{path}: no list of objects under the key {records!r}")
    cursor.register("lines", cursor.sql(sql, params=params).to_arrow_table())
    try:
        return [str(row[0]) for row in cursor.sql(_KEYS_SQL).fetchall()]
    finally:
        cursor.close()


def split(
    cursor: duckdb.DuckDBPyConnection, batch: pa.Table, columns: list[str], line_column: str
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The batch's objects as text columns, and the (line, text) of lines that are not one."""
    select = exp.select(
        *[
            exp.alias_(
                exp.Anonymous(
                    this="json_extract_string",
                    expressions=[exp.column(TEXT_COLUMN), exp.convert(_pointer(name))],
                ),
                identifier(name),
            )
            for name in columns
        ],
        exp.column(line_column),
    ).from_("batch")
    valid = exp.Anonymous(this="kr_is_object", expressions=[exp.column(TEXT_COLUMN)])
    cursor.execute(_MACRO_SQL)
    cursor.register("batch", batch)
    try:
        table = cursor.sql(select.where(valid).sql("duckdb")).to_arrow_table()
        bad = cursor.sql(_BAD_SQL).fetchall()
    finally:
        cursor.unregister("batch")
    return table, [(int(line), str(text)) for line, text in bad]


def _pointer(key: str) -> str:
    """A JSON Pointer to a top-level key (RFC 6901 escapes ~ and /)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")
