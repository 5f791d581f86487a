"""The journey off the website: store visits and calls before an order, and the calls and
social posts that follow a late parcel (or a happy one).

Every choice here is fixed by the order's id (`unit_chance`) and every text drawn from a
generator seeded by it, never from the person's random stream: the rest of the simulated shop
stays exactly as it was without these events.
"""

from __future__ import annotations

import random

from klantreis.collect.simulator.catalogue import unit_chance
from klantreis.collect.simulator.context import DAY, HOUR, Person

STORE_BEFORE = {"careful_comparer": 0.12, "loyal_regular": 0.08, "service_seeker": 0.1}
"""Share of orders, per persona, preceded by a look in the physical store (others: 0.03)."""
CALL_BEFORE = 0.04
CALL_WHEN_LATE = 0.3
MENTION_WHEN_LATE = 0.12
MENTION_WHEN_HAPPY = 0.03
PLATFORMS = (("instagram", 0.45), ("x", 0.25), ("facebook", 0.2), ("tiktok", 0.1))


def _texts(p: Person, key: str) -> random.Random:
    return random.Random(f"{p.seed}:{key}")


def before_order(p: Person, order_id: str, at: float) -> None:
    """A store visit or a product call in the days before the order."""
    ids = p.server_ids()
    if unit_chance(f"store:{order_id}") < STORE_BEFORE.get(p.persona.name, 0.03):
        rng = _texts(p, f"store:{order_id}")
        p.out.emit(
            at - rng.uniform(0.5, 3) * DAY,
            "Store Visited",
            **ids,
            channel="store",
            properties={
                "store_id": rng.choice(("amsterdam", "utrecht", "kobenhavn")),
                "purpose": "browse",
                "text": rng.choice(p.voice.bank.STORE_NOTES),
            },
        )
    if unit_chance(f"call-before:{order_id}") < CALL_BEFORE:
        rng = _texts(p, f"call-before:{order_id}")
        p.out.emit(
            at - rng.uniform(2, 30) * HOUR,
            "Phone Call Received",
            **ids,
            channel="phone",
            properties={
                "call_id": f"CALL-{order_id}-1",
                "topic": "product",
                "duration": round(rng.lognormvariate(5.2, 0.5)),
                "text": rng.choice(p.voice.bank.CALL_NOTES["product"]),
            },
        )


def after_delivery(p: Person, order_id: str, promised: float, delivered: float, late: bool) -> None:
    """A call naming the order and a public complaint after a late parcel; now and then
    praise after a punctual one."""
    ids = p.server_ids()
    if late and unit_chance(f"call-late:{order_id}") < CALL_WHEN_LATE:
        rng = _texts(p, f"call-late:{order_id}")
        p.out.emit(
            promised + rng.uniform(3, 30) * HOUR,
            "Phone Call Received",
            **ids,
            channel="phone",
            properties={
                "call_id": f"CALL-{order_id}-2",
                "topic": "delivery",
                "order_id": order_id,
                "duration": round(rng.lognormvariate(5.6, 0.5)),
                "text": rng.choice(p.voice.bank.CALL_NOTES["delivery"]),
            },
        )
    share = MENTION_WHEN_LATE if late else MENTION_WHEN_HAPPY
    if unit_chance(f"mention:{order_id}") < share:
        rng = _texts(p, f"mention:{order_id}")
        kind = "complaint" if late else "praise"
        platform = rng.choices([n for n, _ in PLATFORMS], [w for _, w in PLATFORMS])[0]
        at = (
            (promised + rng.uniform(12, 48) * HOUR)
            if late
            else delivered + rng.uniform(2, 72) * HOUR
        )
        p.out.emit(
            at,
            "Social Mention",
            **ids,
            channel="social",
            properties={
                "platform": platform,
                "kind": kind,
                "author": f"@{p.who.user_id}",
                "url": f"https://{platform}.example/post/{order_id}",
                "text": rng.choice(p.voice.bank.MENTIONS[kind]),
            },
        )
