"""`journeys`: a person's path around one purchase cycle, from `journey_events`."""

from __future__ import annotations

from collections.abc import Mapping

from klantreis.model.contract import shaped, sourced
from klantreis.model.definition import JourneyDefinition
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

JOURNEYS = register_table(
    TableSpec(
        "journeys",
        columns=columns(
            ("journey_id", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("journey_index", "INTEGER"),
            ("started_at", "TIMESTAMP"),
            ("ended_at", "TIMESTAMP"),
            ("order_id", "VARCHAR"),
            ("ordered_at", "TIMESTAMP"),
            ("converted", "BOOLEAN"),
            ("last_phase_index", "INTEGER"),
            ("events", "BIGINT"),
        ),
        key=("journey_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="one person's path through the phases around one purchase",
    )
)

_JOURNEYS = """
SELECT journey_id, person_id,
       CAST(substr(journey_id, length(person_id) + 3) AS INTEGER) AS journey_index,
       min(timestamp) AS started_at, max(timestamp) AS ended_at,
       min(CASE WHEN event = :purchase_event THEN order_id END) AS order_id,
       min(CASE WHEN event = :purchase_event THEN timestamp END) AS ordered_at,
       max(CASE WHEN event = :purchase_event THEN 1 ELSE 0 END) = 1 AS converted,
       max(phase_index) AS last_phase_index,
       count(*) AS events
FROM journey_events GROUP BY journey_id, person_id
"""


def journeys_query(
    definition: JourneyDefinition, sources: Mapping[str, str] | None = None
) -> Query:
    """Every person's rows, or with `sources` (tables of some persons' rows in place of the
    ones read) exactly those persons' rows: each row depends on its own person's only."""
    return shaped(
        JOURNEYS, sourced(Query(_JOURNEYS, purchase_event=definition.purchase_event), sources or {})
    )
