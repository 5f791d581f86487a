"""One person's life with the shop: journeys (purchase cycles) from first visit to review.

Each journey runs through the six phases: a touchpoint that brings the person in (awareness),
searching and lists (orientation), product pages and the cart (consideration), checkout and
order (purchase), shipping, support and returns (service), and a review or survey (evaluation).
"""

from __future__ import annotations

from klantreis.collect.simulator.aftercare import (
    CHAT_TOPICS,
    RECOVERED_SHARE,
    apologise,
    chat,
    give_back,
    ship,
    ticket,
)
from klantreis.collect.simulator.catalogue import CATEGORIES, Product, unit_chance
from klantreis.collect.simulator.context import DAY, HOUR, Device, Person
from klantreis.collect.simulator.evaluation import Experience, review, survey
from klantreis.collect.simulator.offline import after_delivery, before_order
from klantreis.collect.simulator.shopping import (
    Order,
    Session,
    browse,
    checkout,
    complete,
    fill_cart,
)

FAVOURITE_CATEGORIES = {
    "careful_comparer": ("electronics", "electronics", "sports", "home"),
    "bargain_hunter": ("fashion", "beauty", "toys", "home", "garden"),
    "loyal_regular": ("home", "beauty", "beauty", "garden", "toys"),
    "impulse_buyer": ("fashion", "fashion", "beauty", "electronics"),
    "service_seeker": ("electronics", "home", "fashion", "garden"),
}
RETURNING_SOURCES = {
    "careful_comparer": (
        (None, 0.3),
        (("google", "organic"), 0.5),
        (("tweakers", "referral"), 0.2),
    ),
    "bargain_hunter": ((None, 0.2), (("kieskeurig", "referral"), 0.4), (("google", "cpc"), 0.4)),
    "loyal_regular": ((None, 0.8), (("google", "organic"), 0.2)),
    "impulse_buyer": (
        (None, 0.2),
        (("instagram", "paid_social"), 0.5),
        (("facebook", "paid_social"), 0.3),
    ),
    "service_seeker": ((None, 0.5), (("google", "organic"), 0.5)),
}
REFERRERS = {
    "google": "https://www.google.com/",
    "bing": "https://www.bing.com/",
    "tweakers": "https://tweakers.net/pricewatch/",
    "kieskeurig": "https://www.kieskeurig.nl/",
    "instagram": "https://l.instagram.com/",
    "facebook": "https://m.facebook.com/",
    "tiktok": "https://www.tiktok.com/",
}
CAPTURED_WITHOUT_ORDER = 0.004
"""Orders whose payment is captured but that never complete nor confirm (worst payment error)."""
CANCELLED = 0.01
SURPRISED = 0.2
"""Share of the buyers of a product with a thin page (`Product.thin`) it surprises."""
THIN_RETURNS = 2.5
"""How much likelier those surprised buyers return the order."""
ABANDON_AFTER_FRUSTRATION = 0.35
"""Share of persons about to order who leave instead after a very slow page (LCP over 4 s) or a
search or filter that found nothing in that session: the conversion cost of those breaches.
Drawn from a hash of the person and session, so no other draw of the shop moves."""
SOURED_CONVERSION = 0.5
"""After a rejected or slow return, how much of their usual chance to buy a person keeps."""
REORDER = {"loyal_regular": 0.45, "bargain_hunter": 0.1}
"""Chance that a journey is about buying a product bought before again."""


def live(p: Person, first_visit: float) -> None:
    """All journeys of one person from their first visit to the end of the period."""
    persona = p.persona
    p.devices.append(Device(p.who.anonymous_ids[0], "mobile" if p.chance(0.45) else "web"))
    mean_gap = 180.0 / persona.journeys * DAY
    t = first_visit
    while t < p.end:
        t = journey(p, t, first=p.sessions == 0)
        t += p.rng.expovariate(1.0 / mean_gap)


def _device(p: Person) -> Device:
    if len(p.devices) > 1 and p.chance(p.persona.app_share + 0.2):
        return p.devices[1]
    return p.devices[0]


def _source(p: Person, first: bool) -> tuple[dict[str, str] | None, str | None, tuple[str, str]]:
    if first:
        source, medium = p.pick(p.persona.first_sources)
    else:
        picked = p.pick(RETURNING_SOURCES[p.persona.name])
        if picked is None:
            return None, None, ("Home", "/")
        source, medium = picked
    return arrival(source, medium)


def arrival(source: str, medium: str) -> tuple[dict[str, str] | None, str | None, tuple[str, str]]:
    """Campaign, referrer and landing page of a session that came from `source`/`medium`."""
    if source == "direct":
        return None, None, ("Home", "/")
    landing = ("Landing", f"/lp/{source}") if medium != "organic" else ("Home", "/")
    if medium in ("organic", "referral"):
        # a search engine or a comparison site links without UTM tags: only the referrer says
        return None, REFERRERS.get(source), landing
    campaign = {"source": source, "medium": medium, "name": "spring-2026"}
    return campaign, REFERRERS.get(source), landing


def identify(p: Person, device: Device, at: float, context: str | None) -> None:
    """The person tells who they are on this device; the first time also sets their traits."""
    who = p.who
    if p.identified and p.chance(0.25):
        p.out.emit(
            at,
            "Alias",
            type="alias",
            user_id=who.user_id,
            previous_id=device.anonymous_id,
            context=context,
            channel=device.channel,
        )
    else:
        p.out.emit(
            at,
            "Identify",
            type="identify",
            user_id=who.user_id,
            anonymous_id=device.anonymous_id,
            traits=who.traits(),
            context=context,
            channel=device.channel,
        )
    device.linked = True
    if p.identified:
        return
    p.identified, p.identified_at = True, at
    p.out.emit(
        at + 1,
        "Consent Updated",
        user_id=who.user_id,
        anonymous_id=device.anonymous_id,
        context=context,
        channel=device.channel,
        properties={"marketing": who.consent_marketing, "analytics": True},
    )
    if who.company:
        p.out.emit(
            at + 2,
            "Group",
            type="group",
            user_id=who.user_id,
            group_id=f"G-{p.seed}-{who.index:06d}",
            context=context,
            channel=device.channel,
            traits={"name": who.company, "plan": "business"},
        )


def _maybe_second_device(p: Person, at: float) -> None:
    if p.second_device_decided or not p.identified:
        return
    p.second_device_decided = True
    app_person = p.persona.app_share > 0.3
    if not p.chance(0.9 if app_person else p.second_device_share):
        return
    kind = "app" if app_person or p.chance(0.3) else "mobile"
    anonymous_id = f"anon-{p.rng.getrandbits(64):016x}"
    p.who.anonymous_ids.append(anonymous_id)
    device = Device(anonymous_id, kind)
    p.devices.append(device)
    if kind == "app":
        p.out.emit(
            at,
            "Application Installed",
            anonymous_id=anonymous_id,
            channel="app",
            properties={"version": "3.4.1"},
            context=p.context(device),
        )


def journey(p: Person, at: float, first: bool) -> float:
    """One purchase cycle; returns when its last session ended (or its order was placed)."""
    persona = p.persona
    category = p.rng.choice(FAVOURITE_CATEGORIES[persona.name] + tuple(CATEGORIES))
    again = p.bought[-1] if p.bought and p.chance(REORDER.get(persona.name, 0.05)) else None
    if again is not None:
        category = again.category
    sessions = 1 + p.poisson(persona.sessions - 1)
    converts = p.chance(persona.conversion * (SOURED_CONVERSION if p.soured else 1.0))
    t = p.daytime(at - at % DAY)
    for i in range(sessions):
        if t >= p.end:
            break
        _maybe_second_device(p, t - 60)
        device = _device(p)
        campaign, referrer, landing = _source(p, first and i == 0)
        s = Session(p, device, t, campaign, referrer)
        last = i == sessions - 1
        viewed = browse(p, s, category, landing, may_leave=not (last and converts))
        if not viewed:  # left right after a search
            t = s.at + p.lognormal(1.4 * DAY if persona.sessions > 3 else 0.6 * DAY, 0.8)
            continue
        if p.identified and not device.linked:
            identify(p, device, s.step(), s.context)
        if p.chance(persona.chat * 0.8):
            s.at = chat(p, device, s.step(), "product_question")
        if p.identified and p.chance(persona.tickets * 0.25):
            ticket(p, s.step() + 60, "product information", None)
        if (
            last
            and converts
            and s.frustrated
            and unit_chance(f"abandon:{p.seed}:{p.who.index}:{p.sessions}")
            < ABANDON_AFTER_FRUSTRATION
        ):
            converts = False
        if last and converts:
            if again is not None:
                s.emit("Product Viewed", p.catalogue.viewed_json[again.product_id])
                viewed.append(again)
            items = fill_cart(p, s, viewed)
            if not device.linked:
                identify(p, device, s.step(), s.context)
            return buy(p, s, items)
        if p.chance(0.3):
            fill_cart(p, s, viewed)
        if first and i == 0 and not p.identified and p.chance(0.15):
            identify(p, device, s.step(), s.context)
        t = s.at + p.lognormal(1.4 * DAY if persona.sessions > 3 else 0.6 * DAY, 0.8)
    return t


def buy(p: Person, s: Session, items: list[Product]) -> float:
    """Checkout and everything that follows the order."""
    order = checkout(p, s, items)
    if order is None:
        return s.at
    if p.chance(CAPTURED_WITHOUT_ORDER):
        p.out.emit(
            order.at + p.rng.uniform(1, 20),
            "Payment Captured",
            **p.server_ids(),
            properties={
                "order_id": order.order_id,
                "amount": order.total,
                "payment_method": order.payment_method,
                "installments": 1,
            },
        )
        if p.chance(0.9):
            ticket(p, order.at + p.lognormal(3 * HOUR, 0.8), "payment", order.order_id)
        return order.at
    complete(p, s, order)
    before_order(p, order.order_id, order.at)
    p.last_order_at = order.at
    p.bought.extend(order.products)
    aftercare(p, order, s.device)
    return order.at


def aftercare(p: Person, order: Order, device: Device) -> None:
    persona = p.persona
    exp = Experience(no_confirmation=order.confirmation == "missing")
    if order.confirmation != "on_time" and p.chance(0.35 if exp.no_confirmation else 0.1):
        ticket(p, order.at + p.lognormal(2 * HOUR, 0.7), "order", order.order_id)
    if p.chance(CANCELLED):
        p.out.emit(
            order.at + p.rng.uniform(1, 10) * HOUR,
            "Order Cancelled",
            **p.server_ids(),
            properties={"order_id": order.order_id, "reason": "out_of_stock"},
        )
        p.out.emit(
            order.at + p.rng.uniform(12, 60) * HOUR,
            "Order Refunded",
            **p.server_ids(),
            properties={"order_id": order.order_id, "total": order.total, "currency": "EUR"},
        )
        return
    if p.chance(persona.tickets):
        topic = (
            "invoice"
            if p.who.company and p.chance(0.5)
            else p.rng.choice(("product information", "order", "delivery"))
        )
        if ticket(p, order.at + p.rng.uniform(0.1, 2) * DAY, topic, order.order_id):
            exp.slow_service = True
    if p.chance(persona.chat * 0.6):
        chat(p, device, order.at + p.rng.uniform(0.5, 1.5) * DAY, CHAT_TOPICS[1])
    delivery = ship(p, order)
    if delivery.delivered is None:
        ticket(p, order.promised + p.rng.uniform(4, 30) * HOUR, "delivery", order.order_id)
        return
    exp.late = delivery.late
    after_delivery(p, order.order_id, order.promised, delivery.delivered, delivery.late)
    exp.late_days = max(0.0, (delivery.delivered - order.promised) / DAY)
    if delivery.late and unit_chance(f"recover:{order.order_id}") < RECOVERED_SHARE:
        exp.recovered = True
        apologise(p, order, delivery.delivered)
    complains = (delivery.late and p.chance(0.35)) or (delivery.failed and p.chance(0.3))
    if complains and ticket(
        p, max(order.promised, delivery.delivered - DAY) + 2 * HOUR, "delivery", order.order_id
    ):
        exp.slow_service = True
    multiplier = max(CATEGORIES[x.category][1] for x in order.products)
    thin = any(x.thin for x in order.products)
    # A thin product page surprises a share of its buyers (fixed per order, no random draw,
    # so every other simulated figure stays where it was): more returns, worse reviews.
    exp.not_as_described = thin and unit_chance(f"surprise:{order.order_id}") < SURPRISED
    surprise = THIN_RETURNS if exp.not_as_described else 1.0
    if p.chance(min(0.8, persona.returns * (0.6 + 0.4 * multiplier) * surprise)):
        exp.returned = True
        back = give_back(p, order, delivery.delivered)
        exp.return_soured = back.soured
        p.soured = p.soured or back.soured
        if back.soured and p.chance(0.5):
            asked = back.settled - (0 if back.rejected else 3 * DAY)
            if ticket(p, asked, "returns", order.order_id):
                exp.slow_service = True
        if p.chance(0.3):
            survey(
                p,
                back.settled + p.rng.uniform(2, 30) * HOUR,
                "ces",
                2 if back.soured else 4,
                topic="product",
                order_id=order.order_id,
            )
        settled = back.settled
    else:
        settled = None
    review(p, order.order_id, delivery.delivered, exp, order.products[0].name, settled)
