"""Before the order: browsing sessions (awareness, orientation, consideration) and checkout.

Sessions start anonymous; the person identifies at their first checkout (or newsletter
sign-up), after which browser events carry the user id next to the device's anonymous id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from math import exp
from typing import Any

from klantreis.collect.simulator.catalogue import (
    QUERIES,
    ZERO_RESULT_QUERIES,
    Product,
    product_props,
    unit_chance,
)
from klantreis.collect.simulator.context import DAY, HOUR, Device, Person, skip_sunday
from klantreis.collect.simulator.emitter import json_text

SHOP = "https://shop.example"
PAYMENT_METHODS = {
    "nl": (("ideal", 0.55), ("card", 0.15), ("paypal", 0.15), ("klarna", 0.15)),
    "dk": (("mobilepay", 0.45), ("card", 0.4), ("paypal", 0.15)),
    "gb": (("card", 0.6), ("paypal", 0.3), ("klarna", 0.1)),
}
PAYMENT_FAILURES = (
    ("card_declined", 0.35),
    ("insufficient_funds", 0.2),
    ("authentication_failed", 0.25),
    ("bank_timeout", 0.15),
    ("expired_card", 0.05),
)
PAYMENT_FAILURE_RATE = 0.04
EMPTY_FILTER = 0.05
LEAVE_AFTER_NOTHING = 0.3
"""Sessions that end right after a search that found nothing (the visitor gives up)."""
LEAVE_AFTER_SEARCH = 0.06
"""Sessions that end right after a search with results (nothing in the list appealed)."""
"""Share of filter uses whose combination returns no products."""
"""Share of payment attempts that fail (each failed attempt emits `Payment Failed`)."""
PROMISE_DAYS = {"nl": (1, 2), "dk": (2, 3), "gb": (2, 4)}
PROMOTIONS = (
    ("promo-spring", "Spring sale -20%"),
    ("promo-free-shipping", "Free shipping from EUR 25"),
    ("promo-bundle", "Second item half price"),
    ("promo-app", "10% off in the app"),
)
VITALS_SAMPLE = 0.35
"""Share of web page loads that report Web Vitals (as a sampled RUM script would)."""


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None).isoformat(timespec="seconds")


@lru_cache(maxsize=4096)
def page_json(name: str, path: str) -> str:
    """The properties of a `Page Viewed` without referrer, as JSON text: the shop's pages
    are its few landing pages and a page per product."""
    return json_text({"path": path, "url": SHOP + path, "title": f"{name} | Shop", "name": name})


@dataclass
class Order:
    order_id: str
    at: float
    products: list[Product]
    total: float
    revenue: float
    shipping: float
    payment_method: str
    promised: float
    carrier: str = ""
    confirmation: str = "on_time"
    """`on_time`, `late` or `missing` — how the confirmation e-mail went."""


class Session:
    """One visit: a device, a context shared by its events, and a clock."""

    def __init__(
        self,
        p: Person,
        device: Device,
        at: float,
        campaign: dict[str, str] | None = None,
        referrer: str | None = None,
    ) -> None:
        self.p = p
        self.device = device
        self.at = at
        self.context = p.context(device, campaign, referrer)
        # what every event of the session reads, looked up once (`emit`)
        self._dwell = p.persona.dwell
        self._gauss = p.rng.gauss
        self._emit = p.out.emit_in_session
        self._user_id = p.who.user_id
        self.frustrated = False
        """A measured slow page, a search or filter that found nothing: some who meant to
        buy in this session leave instead (`story.ABANDON_AFTER_FRUSTRATION`)."""
        p.sessions += 1

    def step(self) -> float:
        self.at += max(2.0, self.p.lognormal(self.p.persona.dwell, 0.6))
        return self.at

    def emit(
        self,
        event: str,
        properties: dict[str, Any] | str,
        type: str = "track",
        name: str | None = None,
    ) -> None:
        """One event of this session on its device (`Person.device_ids`: the user id once
        the device is linked), a step after the one before; `properties` as a dict or as its
        JSON text (a product's or a page's, encoded once)."""
        device = self.device
        # `step`, written out: the same draw and arithmetic for the most frequent call
        self.at = at = self.at + max(2.0, self._dwell * exp(self._gauss(0.0, 0.6)))
        self._emit(
            at,
            event,
            self._user_id if device.linked else None,
            device.anonymous_id,
            properties if isinstance(properties, str) else json_text(properties),
            self.context,
            device.channel,
            type,
            name,
        )

    def page(self, name: str, path: str, referrer: str | None = None) -> None:
        p = self.p
        if self.device.kind == "app":
            self.emit("Screen Viewed", {"name": name}, type="screen", name=name)
            return
        if referrer:
            props = {"path": path, "url": SHOP + path, "title": f"{name} | Shop", "name": name}
            props["referrer"] = referrer
            self.emit("Page Viewed", props, type="page", name=name)
        else:
            self.emit("Page Viewed", page_json(name, path), type="page", name=name)
        if p.chance(VITALS_SAMPLE):
            self.vitals(path)

    def vitals(self, path: str) -> None:
        p = self.p
        slow = 2.2 if p.chance(0.1) else 1.0
        mobile = 1.25 if self.device.kind == "mobile" else 1.0
        lcp = p.lognormal(1700.0 * slow * mobile, 0.42)
        self.frustrated = self.frustrated or lcp > 4000
        props = {
            "path": path,
            "lcp": round(lcp),
            "fcp": round(lcp * p.rng.uniform(0.45, 0.8)),
            "inp": round(p.lognormal(140.0 * slow, 0.55)),
            "cls": round(p.lognormal(0.04, 0.9), 3),
            "ttfb": round(p.lognormal(380.0 * slow, 0.5)),
        }
        device = self.device
        p.out.emit_in_session(
            self.at + 3.0,
            "Web Vitals Measured",
            p.who.user_id if device.linked else None,
            device.anonymous_id,
            json_text(props),
            self.context,
            "web",
            "track",
            None,
        )


def browse(
    p: Person,
    s: Session,
    category: str,
    landing: tuple[str, str],
    promo_shown: float = 0.45,
    may_leave: bool = True,
) -> list[Product]:
    """Orientation and consideration in one session; returns the products looked at, none when
    the visitor left right after a search (`may_leave`: not in a session that will order).

    Whether a visitor leaves is fixed per session and search (`unit_chance`), not drawn."""
    persona = p.persona
    if s.device.kind == "app":
        s.emit("Application Opened", {"version": "3.4.1"})
    s.page(*landing)
    if p.chance(promo_shown):
        promo_id, promo_name = p.rng.choice(PROMOTIONS)
        s.emit("Promotion Viewed", {"promotion_id": promo_id, "name": promo_name})
        if p.chance(persona.promo_click):
            s.emit("Promotion Clicked", {"promotion_id": promo_id, "name": promo_name})
            s.page("Promotions", "/acties")
    lang = p.who.language
    searches = p.poisson(persona.searches)
    for n in range(searches):
        leave = unit_chance(f"leave:{p.seed}:{p.who.index}:{p.sessions}:{n}")
        if p.chance(0.07):
            query = p.rng.choice(ZERO_RESULT_QUERIES[lang])
            s.emit("Products Searched", {"query": query, "results": 0})
            s.frustrated = True
            if may_leave and leave < LEAVE_AFTER_NOTHING:
                return []
        query = p.rng.choice(QUERIES[lang][category])
        results = p.rng.randint(4, 180)
        s.emit("Products Searched", {"query": query, "results": results})
        if p.chance(persona.filter_rate):
            narrowed = max(1, int(results * p.rng.uniform(0.1, 0.6)))
            if unit_chance(f"filter:{p.seed}:{p.who.index}:{p.sessions}:{query}") < EMPTY_FILTER:
                narrowed = 0  # a price range with nothing in it: fixed per search, no draw
                s.frustrated = True
            cheap_first = persona.price_level < 1 or p.chance(0.3)
            s.emit(
                "Product List Filtered",
                {
                    "list_id": f"search-{category}",
                    "filters": [
                        {"type": "category", "value": category},
                        {"type": "price", "value": "0-50" if cheap_first else "50-500"},
                    ],
                    "sorts": [{"type": "price", "value": "asc"}]
                    if cheap_first
                    else [{"type": "rating", "value": "desc"}],
                    "results": narrowed,
                },
            )
        elif may_leave and n == searches - 1 and leave > 1 - LEAVE_AFTER_SEARCH:
            return []
    if searches == 0:
        s.emit("Product List Viewed", {"list_id": f"category-{category}", "category": category})
    viewed = []
    for _ in range(max(1, p.poisson(persona.product_views))):
        product = p.catalogue.pick(p.rng, category, persona.price_level)
        viewed.append(product)
        if s.device.kind != "app" and p.chance(0.3):
            s.page(product.name, f"/p/{product.product_id}")
        s.emit("Product Viewed", p.catalogue.viewed_json[product.product_id])
    return viewed


def fill_cart(p: Person, s: Session, viewed: list[Product]) -> list[Product]:
    count = max(1, min(len(viewed) + 1, 1 + p.poisson(p.persona.items - 1)))
    items = [viewed[-1]]
    while len(items) < count:
        extra = (
            p.rng.choice(viewed)
            if p.chance(0.6)
            else p.catalogue.pick(p.rng, viewed[0].category, p.persona.price_level)
        )
        items.append(extra)
    added = p.catalogue.added_json
    for product in items:
        s.emit("Product Added", added[product.product_id])
    s.emit(
        "Cart Viewed",
        {
            "cart_id": f"cart-{p.who.index}-{p.sessions}",
            "products": [product_props(x, 1) for x in items],
        },
    )
    return items


def checkout(p: Person, s: Session, items: list[Product]) -> Order | None:
    """Checkout, payment (sometimes failing) and the order; None when the person gives up."""
    p.orders += 1
    order_id = f"O-{p.seed}-{p.who.index:06d}-{p.orders:02d}"
    products = [
        {"product_id": x.product_id, "category": x.category, "price": x.price, "quantity": 1}
        for x in items
    ]
    revenue = round(sum(x.price for x in items), 2)
    s.emit(
        "Checkout Started",
        {
            "order_id": order_id,
            "value": revenue,
            "revenue": revenue,
            "currency": "EUR",
            "products": products,
        },
    )
    if p.chance(p.persona.coupon):
        s.emit(
            "Coupon Applied",
            {
                "order_id": order_id,
                "coupon_id": p.rng.choice(("WELKOM10", "SPRING20", "APP10", "FREESHIP")),
            },
        )
        revenue = round(revenue * 0.9, 2)
    if p.who.company and p.chance(0.6):
        method = "invoice"
    else:
        method = p.pick(PAYMENT_METHODS[p.who.country])
    checkout_id = f"chk-{order_id}"
    while True:
        s.emit(
            "Payment Info Entered",
            {"checkout_id": checkout_id, "order_id": order_id, "payment_method": method},
        )
        if not p.chance(PAYMENT_FAILURE_RATE):
            break
        s.emit(
            "Payment Failed",
            {
                "checkout_id": checkout_id,
                "order_id": order_id,
                "payment_method": method,
                "reason": p.pick(PAYMENT_FAILURES),
            },
        )
        if not p.chance(0.7):
            return None
        if p.chance(0.4):
            method = p.pick(PAYMENT_METHODS[p.who.country])
    shipping = 0.0 if revenue >= 25 else 3.95
    low, high = PROMISE_DAYS[p.who.country]
    day_start = s.at - s.at % DAY
    promised = skip_sunday(day_start + p.rng.randint(low, high) * DAY) + 21 * HOUR
    return Order(
        order_id=order_id,
        at=s.step(),
        products=items,
        total=round(revenue + shipping, 2),
        revenue=revenue,
        shipping=shipping,
        payment_method=method,
        promised=promised,
    )


def complete(p: Person, s: Session, order: Order) -> None:
    """The order is placed: Order Completed, payment capture and the confirmation e-mail."""
    props = {
        "order_id": order.order_id,
        "total": order.total,
        "revenue": order.revenue,
        "shipping": order.shipping,
        "currency": "EUR",
        "products": [
            {"product_id": x.product_id, "category": x.category, "price": x.price}
            for x in order.products
        ],
        "promised_delivery_date": iso(order.promised),
        "region": p.who.region,
        "payment_method": order.payment_method,
    }
    s.emit("Order Completed", props)
    server = p.server_ids()
    p.out.emit(
        order.at + p.rng.uniform(1, 20),
        "Payment Captured",
        **server,
        properties={
            "order_id": order.order_id,
            "amount": order.total,
            "payment_method": order.payment_method,
            "installments": 1,
        },
    )
    roll = p.rng.random()
    if roll < 0.93:
        delay, order.confirmation = p.rng.uniform(4, 55), "on_time"
    elif roll < 0.975:
        delay, order.confirmation = p.lognormal(40 * 60, 0.9) + 300, "late"
    else:
        order.confirmation = "missing"
        return
    p.out.emit(
        order.at + delay,
        "Order Confirmation Sent",
        **server,
        properties={"order_id": order.order_id, "kind": "transactional"},
    )
