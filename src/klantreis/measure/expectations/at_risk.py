"""Orders about to break their delivery promise, so the shop can warn the customer in time.

An order is at risk when it is neither delivered nor cancelled and too little time is left
before its promised delivery date: less than `unshipped_hours` while it has not shipped yet, or
less than `undelivered_hours` while it is on its way. Settings in klantreis.toml:

    [at_risk]
    unshipped_hours = 48
    undelivered_hours = 24

"Now" is the latest stored event unless given: the store's own clock, so a replay of an old
export (`--now 2018-03-01`) sees only the events up to that moment.

Only orders whose state can still change are read whole: a delivered or cancelled order is
settled, found from the `order_id` and `event` columns alone, and the properties (promised
date, carrier) are read for the open orders only, a few days of orders at any shop size.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, ClassVar

import pyarrow as pa
from pydantic import Field
from sqlglot import exp

from klantreis.config import ConfigError, SectionSettings
from klantreis.model import ensure_built, load_definition
from klantreis.model.build import configured_definition
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

_AT_RISK = """
WITH settled AS (
    SELECT order_id FROM journey_events
    WHERE order_id IS NOT NULL AND timestamp <= :now
      AND event IN ('Order Delivered', 'Order Cancelled')
),
placed AS (
    SELECT order_id, person_id, journey_id, timestamp, properties FROM journey_events
    WHERE event = :purchase_event AND order_id IS NOT NULL AND timestamp <= :now
      AND order_id NOT IN (SELECT order_id FROM settled)
),
orders AS (
    SELECT order_id, min(person_id) AS person_id, min(journey_id) AS journey_id,
           min(timestamp) AS ordered_at,
           max(TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP)) AS promised
    FROM placed
    GROUP BY order_id
),
later AS (
    SELECT order_id,
           min(CASE WHEN event = 'Order Shipped' THEN timestamp END) AS shipped_at,
           max(CASE WHEN event = 'Order Shipped'
                    THEN TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP) END)
               AS shipped_promise,
           max(properties ->> '$.carrier') AS carrier,
           max(CASE WHEN event = 'Order Delivered' THEN 1 ELSE 0 END) AS delivered,
           max(CASE WHEN event = 'Order Cancelled' THEN 1 ELSE 0 END) AS cancelled,
           max(CASE WHEN event = 'Delivery Failed' THEN 1 ELSE 0 END) AS delivery_failed
    FROM journey_events
    WHERE order_id IS NOT NULL AND timestamp <= :now
      AND event IN ('Order Shipped', 'Delivery Failed')
      AND order_id IN (SELECT order_id FROM placed)
    GROUP BY order_id
),
open_orders AS (
    SELECT o.order_id, o.person_id, o.journey_id, o.ordered_at,
           coalesce(o.promised, l.shipped_promise) AS promised_at,
           l.shipped_at, l.carrier, coalesce(l.delivery_failed, 0) = 1 AS delivery_failed,
           CASE WHEN l.shipped_at IS NULL THEN 'not shipped' ELSE 'not delivered' END AS stage
    FROM orders AS o LEFT JOIN later AS l ON l.order_id = o.order_id
    WHERE coalesce(l.delivered, 0) = 0 AND coalesce(l.cancelled, 0) = 0
),
timed AS (
    SELECT *, date_diff('second', :now, promised_at) / 3600.0 AS hours_left
    FROM open_orders WHERE promised_at IS NOT NULL
)
SELECT order_id, person_id, journey_id, stage, ordered_at, promised_at, shipped_at, carrier,
       delivery_failed, round(hours_left, 1) AS hours_left
FROM timed
WHERE (hours_left >= 0 OR :overdue)
  AND ((stage = 'not shipped' AND hours_left < :unshipped_hours)
       OR (stage = 'not delivered' AND hours_left < :undelivered_hours))
ORDER BY hours_left, order_id
"""


class AtRiskError(ConfigError):
    """Thresholds in klantreis.toml [at_risk] that make no sense."""


Hours = Annotated[float, Field(ge=0, strict=True, description="a number of hours >= 0")]
"""A number of hours >= 0 (a number in klantreis.toml, not text or true/false)."""


class AtRiskSettings(SectionSettings):
    """`[at_risk]`: hours an order may wait before it counts as at risk."""

    SECTION: ClassVar[str] = "at_risk"
    ERROR: ClassVar[type[ConfigError]] = AtRiskError

    unshipped_hours: Hours = 48.0
    undelivered_hours: Hours = 24.0


def at_risk_orders(
    kr: Context,
    *,
    now: datetime | None = None,
    unshipped_hours: float | None = None,
    undelivered_hours: float | None = None,
    overdue: bool = False,
) -> tuple[datetime, pa.Table]:
    """(the moment judged at, orders at risk with the hours left, soonest first)."""
    ensure_built(kr)
    settings = kr.settings.section(AtRiskSettings)
    if now is None:
        now = kr.engine.scalar("SELECT max(timestamp) FROM events") or datetime(1970, 1, 1)
    now = now.replace(tzinfo=None)
    purchase_event = load_definition(configured_definition(kr)).purchase_event
    table = kr.engine.fetch(
        Query(
            _AT_RISK,
            now=exp.cast(exp.convert(now.isoformat(sep=" ")), "TIMESTAMP"),
            purchase_event=purchase_event,
            overdue=overdue,
            unshipped_hours=float(
                settings.unshipped_hours if unshipped_hours is None else unshipped_hours
            ),
            undelivered_hours=float(
                settings.undelivered_hours if undelivered_hours is None else undelivered_hours
            ),
        )
    )
    return now, table
