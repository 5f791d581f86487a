"""The small stories the tests of stored cases share: an order whose delivery promise breaks
(no delivery by its promised day), an event after it, and an order delivered in time."""

from __future__ import annotations

ORDER = (
    "Order Completed",
    "2026-03-02T09:00",
    {"properties": {"order_id": "o1", "promised_delivery_date": "2026-03-06T00:00:00"}},
)
LATER = ("Page Viewed", "2026-03-09T09:00")
DELIVERED = [
    (
        "Order Completed",
        "2026-03-02T08:00",
        {"properties": {"order_id": "o0", "promised_delivery_date": "2026-03-06T00:00:00"}},
    ),
    ("Order Delivered", "2026-03-03T08:00", {"properties": {"order_id": "o0"}}),
]
