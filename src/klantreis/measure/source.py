"""Where analyses read from: the model's tables on the configured engine, built if needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from klantreis.measure.trees import AnalysisError
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, identifier

if TYPE_CHECKING:
    from klantreis.model.context import Context


def prepare(kr: Context) -> Engine:
    """The engine, with the model (journey_events, ...) built or refreshed when it can be."""
    try:
        from klantreis.model import ensure_built
    except ImportError:  # pragma: no cover - the model ships with klantreis
        return kr.engine
    if kr.engine.capabilities.writable and not kr.store.read_only:
        ensure_built(kr)
    return kr.engine


def require_table(engine: Engine, table: str, columns: Sequence[str] = ()) -> None:
    """A clear error naming the table (or column) that an analysis needs but is not there."""
    if not engine.has_table(table):
        hint = " (run `klantreis model build` first)" if table == "journey_events" else ""
        raise AnalysisError(f"table {table!r} does not exist{hint}")
    if columns:
        from sqlglot import exp

        probe = exp.select("*").from_(exp.Table(this=identifier(table))).limit(0)
        present = set(engine.fetch(Query(probe)).column_names)
        for column in columns:
            if column not in present:
                # Not the table's other columns: through the read API that would list the
                # insides of any table (web_users, api_keys) to whoever holds a read key.
                raise AnalysisError(f"table {table!r} has no column {column!r}")
