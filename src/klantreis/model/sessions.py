"""`sessions`: bursts of a person's activity, from `journey_events`."""

from __future__ import annotations

from collections.abc import Mapping

from klantreis.model.contract import shaped, sourced
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

SESSIONS = register_table(
    TableSpec(
        "sessions",
        columns=columns(
            ("session_id", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("started_at", "TIMESTAMP"),
            ("ended_at", "TIMESTAMP"),
            ("events", "BIGINT"),
        ),
        key=("session_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="a burst of one person's activity (30 minutes of quiet end it)",
    )
)

_SESSIONS = """
SELECT session_id, person_id, min(timestamp) AS started_at, max(timestamp) AS ended_at,
       count(*) AS events
FROM journey_events GROUP BY session_id, person_id
"""


def sessions_query(sources: Mapping[str, str] | None = None) -> Query:
    """Every person's rows, or with `sources` (tables of some persons' rows in place of the
    ones read) exactly those persons' rows: each row depends on its own person's only."""
    return shaped(SESSIONS, sourced(Query(_SESSIONS), sources or {}))
