"""After the order: shipping, delivery, returns, support tickets and live chat.

Carriers differ in how often they miss the promised date; together they are calibrated to the
~8 % late deliveries of the Olist data (7.9 % of delivered orders in its 15k-order sample).
"""

from __future__ import annotations

from dataclasses import dataclass

from klantreis.collect.simulator.catalogue import unit_chance
from klantreis.collect.simulator.context import DAY, HOUR, Device, Person, skip_sunday
from klantreis.collect.simulator.evaluation import survey
from klantreis.collect.simulator.shopping import Order, iso

# carrier: (chance to miss the promised date, chance a delivery attempt fails)
CARRIERS: dict[str, tuple[float, float]] = {
    "PostNL": (0.05, 0.02),
    "DHL": (0.04, 0.015),
    "DPD": (0.065, 0.03),
    "GLS": (0.075, 0.03),
    "DAO": (0.105, 0.05),
    "Bring": (0.07, 0.03),
    "Royal Mail": (0.075, 0.025),
}
CARRIERS_BY_COUNTRY = {
    "nl": (("PostNL", 0.6), ("DHL", 0.3), ("DPD", 0.1)),
    "dk": (("GLS", 0.4), ("DAO", 0.35), ("Bring", 0.25)),
    "gb": (("Royal Mail", 0.5), ("DHL", 0.3), ("DPD", 0.2)),
}
DELIVERY_FAILURES = (
    ("not_home", 0.6),
    ("address_not_found", 0.15),
    ("damaged", 0.1),
    ("no_safe_place", 0.15),
)
RETURN_REASONS = (
    ("quality", 0.35),
    ("damaged", 0.15),
    ("not_as_described", 0.25),
    ("changed_mind", 0.25),
)
SLOW_REFUND_SHARE = 0.15
"""Refunds that take 8–25 days after the return arrived (the rest: within 4 days)."""
RECOVERED_SHARE = 0.25
"""Late deliveries the shop acts on (an apology as a case message right after delivery),
picked by order id without a random draw, so every other simulated figure stays as it was."""
REJECTED_SHARE = 0.07
"""Return requests the shop refuses (outside the return window, used, final sale)."""
REJECTION_REASONS = (("outside_window", 0.5), ("used", 0.8), ("final_sale", 1.0))
"""Why a request is refused, with the cumulative share up to each reason."""
SLOW_APPROVAL_SHARE = 0.1
"""Approved requests the shop takes 3–9 days to approve (the rest: from 30 minutes to 30
hours)."""
AGENTS = ("agent-anna", "agent-bas", "agent-freja", "agent-tom", "agent-lars", "agent-meg")


@dataclass
class Delivery:
    delivered: float | None
    late: bool
    failed: bool


def ship(p: Person, order: Order) -> Delivery:
    """The parcel's way from warehouse to door, with the carrier's own reliability."""
    server = p.server_ids()
    carrier = p.pick(CARRIERS_BY_COUNTRY[p.who.country])
    order.carrier = carrier
    miss, fail = CARRIERS[carrier]
    promised_day = order.promised - order.promised % DAY
    shipped = order.at + min(
        p.lognormal(16 * HOUR, 0.5), max(2 * HOUR, order.promised - order.at - 20 * HOUR)
    )
    tracking = f"{carrier[:2].upper()}{p.rng.getrandbits(40):012d}"
    promised = iso(order.promised)
    p.out.emit(
        shipped,
        "Order Shipped",
        **server,
        properties={
            "order_id": order.order_id,
            "carrier": carrier,
            "tracking_id": tracking,
            "promised_delivery_date": promised,
        },
    )
    if p.chance(0.9):
        p.out.emit(
            shipped + p.rng.uniform(120, 2400),
            "Shipping Update Sent",
            **server,
            properties={
                "order_id": order.order_id,
                "status": "shipped",
                "carrier": carrier,
                "tracking_id": tracking,
            },
        )
    p.out.emit(
        shipped + p.rng.uniform(2, 5) * HOUR,
        "Shipment Updated",
        **server,
        properties={"order_id": order.order_id, "carrier": carrier, "status": "in_transit"},
    )
    if p.chance(miss):
        late_days = 1 + min(p.poisson(1.2), 9)
        day = promised_day + late_days * DAY
        if p.chance(0.45):
            p.out.emit(
                order.promised - p.rng.uniform(2, 10) * HOUR,
                "Shipping Update Sent",
                **server,
                properties={"order_id": order.order_id, "status": "delayed", "carrier": carrier},
            )
    else:
        earliest = shipped + 10 * HOUR
        day = promised_day if p.chance(0.65) else promised_day - DAY
        if day + 19 * HOUR < earliest:
            day = promised_day
    attempt = max(skip_sunday(day) + p.rng.uniform(8, 19) * HOUR, shipped + 10 * HOUR)
    failed = False
    if p.chance(fail):
        failed = True
        p.out.emit(
            attempt,
            "Delivery Failed",
            **server,
            properties={
                "order_id": order.order_id,
                "carrier": carrier,
                "reason": p.pick(DELIVERY_FAILURES),
            },
        )
        if p.chance(0.08):
            return Delivery(None, True, True)
        attempt = skip_sunday(attempt - attempt % DAY + DAY) + p.rng.uniform(8, 19) * HOUR
    p.out.emit(
        attempt - p.rng.uniform(1, 4) * HOUR,
        "Shipment Updated",
        **server,
        properties={"order_id": order.order_id, "carrier": carrier, "status": "out_for_delivery"},
    )
    p.out.emit(
        attempt,
        "Order Delivered",
        **server,
        properties={
            "order_id": order.order_id,
            "carrier": carrier,
            "promised_delivery_date": promised,
        },
    )
    return Delivery(attempt, attempt > order.promised, failed)


def apologise(p: Person, order: Order, delivered: float) -> None:
    """The shop acts on the late delivery's case: an apology e-mail three hours after it."""
    p.out.emit(
        delivered + 3 * HOUR,
        "Case Message Sent",
        **p.server_ids(),
        properties={
            "case_id": f"delivery_breach:delivery_promise_kept:{order.order_id}",
            "kind": "breach",
            "message": "apology",
            "via": "email",
            "order_id": order.order_id,
            "expectation_id": "delivery_promise_kept",
            "transactional": True,
        },
    )


@dataclass
class Return:
    """How a return went: when it was settled (rejected or refunded), and whether it was slow
    or rejected (either sours the customer: a lower review, fewer repeat purchases)."""

    settled: float
    refunded: float | None
    slow: bool
    rejected: bool

    @property
    def soured(self) -> bool:
        return self.slow or self.rejected


def give_back(p: Person, order: Order, delivered: float) -> Return:
    """A return: requested, then approved (sometimes slowly) or rejected; an approved return is
    received and refunded.

    Whether a request is rejected or approved slowly is fixed per order (`unit_chance`), and the
    random draws of an approved return are made for a rejected one too, so every other simulated
    figure stays where it was.
    """
    server = p.server_ids()
    p.returns += 1
    return_id = f"R-{order.order_id[2:]}"
    fashion = any(x.category == "fashion" for x in order.products)
    reason = "size" if fashion and p.chance(0.6) else p.pick(RETURN_REASONS)
    if any(x.thin for x in order.products) and unit_chance(f"reason:{order.order_id}") < 0.6:
        reason = "not_as_described"
    requested = delivered + p.lognormal(2.5 * DAY, 0.6)
    returned = order.products[: max(1, len(order.products) // 2)]
    p.out.emit(
        requested,
        "Return Requested",
        **server,
        properties={
            "order_id": order.order_id,
            "return_id": return_id,
            "reason": reason,
            "products": [
                {"product_id": x.product_id, "category": x.category, "price": x.price}
                for x in returned
            ],
        },
    )
    ids = {"order_id": order.order_id, "return_id": return_id}
    decided = unit_chance(f"decision:{order.order_id}")
    wait = unit_chance(f"decision-wait:{order.order_id}")
    transit, slow_refund = p.rng.uniform(2, 6) * DAY, p.chance(SLOW_REFUND_SHARE)
    refund_wait = (p.rng.uniform(8, 25) if slow_refund else p.rng.uniform(0.3, 4)) * DAY
    if decided < REJECTED_SHARE:
        rejected = requested + (2 + 70 * wait) * HOUR
        pick = unit_chance(f"rejection:{order.order_id}")
        why = next(r for r, upto in REJECTION_REASONS if pick < upto)
        p.out.emit(rejected, "Return Rejected", **server, properties={**ids, "reason": why})
        return Return(rejected, None, False, True)
    slow_approval = wait < SLOW_APPROVAL_SHARE
    quick_wait = (wait - SLOW_APPROVAL_SHARE) / (1 - SLOW_APPROVAL_SHARE)
    approved = requested + (
        (3 + 6 * wait / SLOW_APPROVAL_SHARE) * DAY
        if slow_approval
        else (0.5 + 29.5 * quick_wait) * HOUR
    )
    p.out.emit(approved, "Return Approved", **server, properties=ids)
    received = approved + transit
    p.out.emit(received, "Return Received", **server, properties=ids)
    refunded = received + refund_wait
    p.out.emit(
        refunded,
        "Order Refunded",
        **server,
        properties={
            **ids,
            "total": round(sum(x.price for x in returned), 2),
            "currency": "EUR",
        },
    )
    return Return(refunded, refunded, slow_refund or slow_approval, False)


def ticket(p: Person, at: float, topic: str, order_id: str | None, repeat: float = 0.12) -> bool:
    """A support ticket with replies; returns whether the service was slow.

    Slow means a first response after 24 hours or a resolution after 72 hours. Sometimes the
    same topic comes back within 14 days, more often after slow service.
    """
    server = p.server_ids()
    p.tickets += 1
    ticket_id = f"T-{p.seed}-{p.who.index:06d}-{p.tickets:02d}"
    subject, text = p.voice.ticket(p.rng, topic, order_id=order_id or "-", name=p.who.first_name)
    props = {
        "ticket_id": ticket_id,
        "topic": topic,
        "subject": subject,
        "text": p.untrusted(text),
        "language": p.who.language,
    }
    if order_id:
        props["order_id"] = order_id
    p.out.emit(at, "Ticket Created", **server, properties=props)
    first = p.lognormal(3.0 * HOUR, 1.1)
    if p.chance(0.08):
        first *= 8
    agent = p.rng.choice(AGENTS)
    t = at + first
    p.out.emit(
        t,
        "Ticket Replied",
        **server,
        properties={
            "ticket_id": ticket_id,
            "author": "agent",
            "agent_id": agent,
            "text": p.voice.agent_reply(p.rng, topic, name=p.who.first_name),
        },
    )
    if p.chance(0.45):
        t += p.lognormal(5 * HOUR, 0.8)
        p.out.emit(
            t,
            "Ticket Replied",
            **server,
            properties={
                "ticket_id": ticket_id,
                "author": "customer",
                "text": p.untrusted(p.voice.customer_followup(p.rng, topic)),
            },
        )
        t += p.lognormal(4 * HOUR, 1.0)
        p.out.emit(
            t,
            "Ticket Replied",
            **server,
            properties={
                "ticket_id": ticket_id,
                "author": "agent",
                "agent_id": agent,
                "text": p.voice.agent_reply(p.rng, topic, name=p.who.first_name),
            },
        )
    resolved = t + p.lognormal(14 * HOUR, 1.0)
    p.out.emit(resolved, "Ticket Resolved", **server, properties={"ticket_id": ticket_id})
    slow = first > 24 * HOUR or resolved - at > 72 * HOUR
    if p.chance(0.3 if slow else 0.22):
        survey(
            p,
            resolved + p.rng.uniform(1, 30) * HOUR,
            "csat",
            2 if slow else 5,
            topic="service",
            order_id=order_id,
        )
    if p.chance(repeat + (0.2 if slow else 0.0)):
        ticket(p, resolved + p.rng.uniform(1, 11) * DAY, topic, order_id, repeat=0.0)
    return slow


CHAT_TOPICS = ("product_question", "order_status")


def chat(p: Person, device: Device, at: float, topic: str) -> float:
    """A live chat conversation on the person's device; returns when it ended."""
    p.chats += 1
    conversation = f"C-{p.seed}-{p.who.index:06d}-{p.chats:02d}"
    ids = p.device_ids(device)
    agent = p.rng.choice(AGENTS)
    p.out.emit(
        at,
        "Live Chat Conversation Started",
        **ids,
        channel="chat",
        properties={"conversation_id": conversation, "agent_id": agent},
    )
    t = at
    for turn in range(p.rng.randint(2, 5)):
        t += p.lognormal(50, 0.6)
        p.out.emit(
            t,
            "Live Chat Message Sent",
            **ids,
            channel="chat",
            properties={
                "conversation_id": conversation,
                "message_body": p.untrusted(p.voice.chat_customer(p.rng, topic, turn)),
            },
        )
        t += p.lognormal(35, 0.7)
        p.out.emit(
            t,
            "Live Chat Message Received",
            **ids,
            channel="chat",
            properties={
                "conversation_id": conversation,
                "agent_username": agent,
                "message_body": p.voice.chat_agent(p.rng, topic, turn),
            },
        )
    t += p.rng.uniform(10, 60)
    p.out.emit(
        t,
        "Live Chat Conversation Ended",
        **ids,
        channel="chat",
        properties={"conversation_id": conversation, "conversation_duration": round(t - at)},
    )
    return t
