"""DuckDB engine: runs query trees on the store's own connection.

DuckDB allows one read-write process per file; within it, each thread gets its own cursor of
the one connection (cursors share the database, not the transaction).
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pyarrow as pa

from klantreis.store.engines.base import Engine, as_query
from klantreis.store.engines.duckdb.dialect import to_duckdb
from klantreis.store.engines.duckdb.factory import CAPABILITIES
from klantreis.store.query import Query, identifier, read_as
from klantreis.store.schema import TABLES


def to_arrow(relation: duckdb.DuckDBPyRelation | None) -> pa.Table:
    """Arrow table of a relation, across DuckDB versions (2.x renamed the method)."""
    if relation is None:
        return pa.table({})
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


class DuckDBEngine(Engine):
    capabilities = CAPABILITIES

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._root = connection
        self._local = threading.local()

    def reconnect(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Run on a new connection from now on (the store rewrote its file, `Store.rewrite`);
        every thread's cursor of the old one is closed with it and made anew on next use."""
        self._root = connection

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor of the shared connection."""
        root, cursor = getattr(self._local, "cursor", (None, None))
        if cursor is None or root is not self._root:
            cursor = self._root.cursor()
            self._local.cursor = (self._root, cursor)
        return cursor

    def fetch(self, query: Query | str, /, **params: Any) -> pa.Table:
        sql = to_duckdb(read_as(as_query(query, params).tree))
        return to_arrow(self.connection.sql(sql))

    def execute(self, query: Query | str, /, **params: Any) -> None:
        self.connection.execute(to_duckdb(as_query(query, params).tree)).fetchall()

    def create_table_as(self, name: str, query: Query | str, /, **params: Any) -> None:
        select = to_duckdb(as_query(query, params).tree)
        target = identifier(name).sql("duckdb")
        spec = TABLES.get(name)
        if spec is None or not spec.stored_as_declared:
            self.connection.execute(f"CREATE OR REPLACE TABLE {target} AS {select}").fetchall()
            return
        # A declared column's storage (`Column.compression`) lives in the table's DDL, which
        # `CREATE TABLE ... AS` does not take: made empty from the declaration, then filled.
        create = spec.create_sql(target, key=False).replace(
            "CREATE TABLE IF NOT EXISTS", "CREATE OR REPLACE TABLE", 1
        )
        self.connection.execute(create)
        self.connection.execute(f"INSERT INTO {target} BY NAME {select}").fetchall()

    def create_work_table(self, name: str, query: Query | str, /, **params: Any) -> None:
        # A temporary table: written to the store file (as a table made in a transaction is,
        # compressed, as soon as it fills a row group) it cost a refresh at 10M events about
        # 3 s of CPU (of 32) for tables dropped before the commit (docs/scaling.md).
        select = to_duckdb(as_query(query, params).tree)
        target = identifier(name).sql("duckdb")
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS {select}").fetchall()

    def insert_into(self, name: str, query: Query | str, /, **params: Any) -> None:
        select = to_duckdb(as_query(query, params).tree)
        target = identifier(name).sql("duckdb")
        self.connection.execute(f"INSERT INTO {target} {select}").fetchall()

    def has_table(self, name: str) -> bool:
        return bool(
            self.connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0][0]
        )
