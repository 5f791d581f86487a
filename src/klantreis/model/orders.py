"""`order_channels`: the channel each order was placed on, for the shop's back-office events.

A back-office event (payment captured, refund, ...) is recorded by the shop's systems, not on
the customer's device: it takes the channel of the order it is about (its first purchase
event). Kept as a table, not recomputed inside `journey_events`, so a refresh adds the new
purchases to it instead of reading every purchase again.

It keeps the user and anonymous id of that purchase event: they are its person columns, so an
erasure removes the person's orders here as it removes their events (an order id is theirs).
"""

from __future__ import annotations

from klantreis.model.contract import shaped, sourced
from klantreis.model.definition import JourneyDefinition
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

ORDER_CHANNELS = register_table(
    TableSpec(
        "order_channels",
        columns=columns(
            ("order_id", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("ordered_at", "TIMESTAMP"),
            ("user_id", "VARCHAR"),
            ("anonymous_id", "VARCHAR"),
        ),
        key=("order_id",),
        person_columns=("user_id", "anonymous_id"),
        derived=True,
        doc="each order's channel and who placed it: those of its first purchase event",
    )
)

_ORDER_CHANNELS = """
SELECT properties ->> '$.order_id' AS order_id, arg_min(channel, timestamp) AS channel,
       min(timestamp) AS ordered_at, arg_min(user_id, timestamp) AS user_id,
       arg_min(anonymous_id, timestamp) AS anonymous_id
FROM events WHERE event = :purchase_event AND properties ->> '$.order_id' IS NOT NULL
GROUP BY 1
"""

_MERGED = """
SELECT order_id, arg_min(channel, ordered_at) AS channel, min(ordered_at) AS ordered_at,
    arg_min(user_id, ordered_at) AS user_id, arg_min(anonymous_id, ordered_at) AS anonymous_id
FROM (SELECT * FROM order_channels UNION ALL SELECT * FROM _kr_new_order_channels) AS u
GROUP BY order_id
"""


def build_order_channels(engine: Engine, definition: JourneyDefinition) -> None:
    query = Query(_ORDER_CHANNELS, purchase_event=definition.purchase_event)
    engine.create_table_as("order_channels", shaped(ORDER_CHANNELS, query))


def add_order_channels(engine: Engine, definition: JourneyDefinition, new_events: str) -> None:
    """Add the orders of the purchase events in `new_events` (the first purchase still wins)."""
    query = Query(_ORDER_CHANNELS, purchase_event=definition.purchase_event)
    new = sourced(query, {"events": new_events})
    engine.create_table_as("_kr_new_order_channels", shaped(ORDER_CHANNELS, new))
    engine.create_table_as("_kr_merged", shaped(ORDER_CHANNELS, _MERGED))
    engine.create_table_as("order_channels", "SELECT * FROM _kr_merged")
    for name in ("_kr_new_order_channels", "_kr_merged"):
        engine.execute(f"DROP TABLE IF EXISTS {name}")
