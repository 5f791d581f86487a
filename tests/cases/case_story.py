"""The story of the cases tests: one customer for each kind of case (imported by the tests
and their fixtures; a module of its own, as `conftest` is another module's name too)."""

from __future__ import annotations


def _order(oid: str, promised: str, when: str = "2026-03-02T09:00") -> tuple:
    return (
        "Order Completed",
        when,
        {"properties": {"order_id": oid, "promised_delivery_date": promised, "revenue": 40}},
    )


def _identify(name: str, language: str, **extra: object) -> tuple:
    traits = {"email": f"{name}@example.com", "first_name": name.title(), "language": language}
    return ("Identify", "2026-03-02T08:00", {"type": "identify", "traits": {**traits, **extra}})


SHOP = {
    # delivered two days late: a broken delivery promise
    "ann": [
        _identify("ann", "nl"),
        _order("O-ann", "2026-03-04T12:00:00"),
        ("Order Shipped", "2026-03-03T09:00", {"properties": {"order_id": "O-ann"}}),
        ("Order Delivered", "2026-03-06T10:00", {"properties": {"order_id": "O-ann"}}),
    ],
    # an NPS detractor
    "ben": [
        _identify("ben", "da"),
        ("Survey Answered", "2026-03-08T10:00", {"properties": {"kind": "nps", "score": 3}}),
    ],
    # a ticket nobody answered
    "cas": [
        _identify("cas", "en"),
        (
            "Ticket Created",
            "2026-03-07T09:00",
            {"properties": {"ticket_id": "T-cas", "subject": "Where is my invoice?"}},
        ),
    ],
    # a ticket answered within two hours: no case
    "dio": [
        (
            "Ticket Created",
            "2026-03-07T09:00",
            {"properties": {"ticket_id": "T-dio", "subject": "Can I change my address?"}},
        ),
        (
            "Ticket Replied",
            "2026-03-07T11:00",
            {"properties": {"ticket_id": "T-dio", "author": "agent", "text": "Done!"}},
        ),
    ],
    # an order about to miss its promised date, not shipped yet
    "eva": [_identify("eva", "en"), _order("O-eva", "2026-03-10T20:00:00", "2026-03-09T08:00")],
    # a furious review
    "fay": [
        (
            "Review Submitted",
            "2026-03-09T12:00",
            {
                "properties": {
                    "review_id": "rv-fay",
                    "rating": 1,
                    "text": "Terrible service, the parcel was broken and nobody helped. "
                    "Awful, never again.",
                    "language": "en",
                }
            },
        )
    ],
    # the store's clock: its latest event
    "gus": [("Page Viewed", "2026-03-10T09:00")],
}
