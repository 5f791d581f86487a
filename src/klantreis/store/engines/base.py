"""The engine seam: what every engine that runs klantreis queries must provide."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # listing engines (reading the settings) loads neither Arrow nor SQLGlot
    import pyarrow as pa

    from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, declared so callers pick paths without type checks."""

    name: str
    dialect: str
    """SQLGlot dialect the engine's SQL is generated in."""
    writable: bool
    """Whether events can be appended (the embedded store) or only read (a lake of Parquet)."""
    exact_distinct: bool = True
    """COUNT(DISTINCT) is exact. Every count klantreis shows must be exact."""
    row_ids: bool = False
    """Every stored row has a `rowid`, stable within a query: a query may sort narrow columns
    and join the wide ones back by it (the model build does)."""


class Engine(ABC):
    """Runs query trees and returns Arrow tables."""

    capabilities: Capabilities

    @abstractmethod
    def fetch(self, query: Query | str, /, **params: Any) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    @abstractmethod
    def execute(self, query: Query | str, /, **params: Any) -> None:
        """Run a statement for its effect."""

    @abstractmethod
    def create_table_as(self, name: str, query: Query | str, /, **params: Any) -> None:
        """(Re)build a derived table from a query."""

    def create_work_table(self, name: str, query: Query | str, /, **params: Any) -> None:
        """(Re)build a table that a job reads and drops before it ends (a refresh's affected
        persons' events and rows): where the engine keeps such tables, not with the derived
        ones (DuckDB: in memory, spilled to its temporary folder past the memory limit)."""
        self.create_table_as(name, query, **params)

    def insert_into(self, name: str, query: Query | str, /, **params: Any) -> None:
        """Append a query's rows to a table (its columns in the table's order); engines that
        only read (`capabilities.writable` false) cannot."""
        raise NotImplementedError(f"{self.capabilities.name} does not write tables")

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        """(Re)build a derived table from rows computed in Python, where the engine keeps its
        derived tables (an engine that reads events from elsewhere: not the store's file)."""
        raise NotImplementedError(f"{self.capabilities.name} keeps no tables of Python rows")

    def create_table_mapped(
        self,
        name: str,
        query: Query | str,
        transform: Callable[[pa.Table], pa.Table],
        schema: str,
        /,
        **params: Any,
    ) -> None:
        """(Re)build a derived table by a Python function over a query's rows, batch by batch,
        where the rows are (a distributed engine's workers). `schema`: the output's columns
        as SQL (`"message_id STRING, sentiment DOUBLE"`)."""
        raise NotImplementedError(f"{self.capabilities.name} runs no Python over its rows")

    @abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether a table (or view) of that name exists."""

    def scalar(self, query: Query | str, /, **params: Any) -> Any:
        table = self.fetch(query, **params)
        if table.num_rows == 0:
            return None
        return table.column(0)[0].as_py()

    def rows(self, query: Query | str, /, **params: Any) -> list[dict[str, Any]]:
        return self.fetch(query, **params).to_pylist()

    def stored_rows(self, query: Query | str, table: str) -> list[dict[str, Any]]:
        """The rows of `query` over the stored `table` alone (a small table every page reads,
        such as the personas to choose from). Here asked each time; an engine that can tell
        when a job stored a new version keeps them until then (a lake's reader)."""
        return self.rows(query)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""

    def events_fingerprint(self) -> str | None:
        """What changes when events are added, if the engine reads events of its own (a
        lake); None: the store's events are the engine's."""
        return None

    def get_state(self, key: str) -> str | None:
        """Small state of a read-only engine (the model's fingerprint); the store's `meta`
        holds it for a writable one."""
        return getattr(self, "_klantreis_state", {}).get(key)

    def set_state(self, key: str, value: str) -> None:
        if not hasattr(self, "_klantreis_state"):
            self._klantreis_state: dict[str, str] = {}
        self._klantreis_state[key] = value


@dataclass(frozen=True)
class EngineFactory:
    """What an engine folder's `factory.py` declares: its capabilities (known without
    importing the engine's heavy client) and how to open it for a store's settings."""

    capabilities: Capabilities
    open: Callable[[Settings, Store], Engine]
    options: tuple[str, ...] = ()
    """The `[engine]` settings it takes (besides `name`)."""


def as_query(query: Query | str, params: dict[str, Any]) -> Query:
    from klantreis.store.query import Query

    if isinstance(query, Query):
        if params:
            raise TypeError("bind parameters when building the Query, not twice")
        return query
    return Query(query, **params)
