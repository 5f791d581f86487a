"""Visitors who look around and leave: the anonymous traffic most of a webshop's sessions are.

Without them every person who views a product would be a customer with a purchase plan, and
the journey map would show most product viewers ordering. Real shops convert a few percent of
their sessions (REES46: 3.9 % of sessions with a purchase; UCI online shoppers: 15.5 % of
sessions with revenue; see docs/simulator.md). Each visitor is one anonymous device with one
or a few short sessions (landing page, a search now and then, a product or two, rarely a cart
left behind) and never identifies, so stitching must keep every visitor a person of its own.
"""

from __future__ import annotations

from klantreis.collect.simulator.catalogue import CATEGORIES
from klantreis.collect.simulator.context import DAY, Device, Person
from klantreis.collect.simulator.shopping import Session, browse
from klantreis.collect.simulator.story import arrival

CART_SHARE = 0.04
"""Sessions in which a visitor puts a product in the cart and leaves (REES46: view → cart for
2.5 % of users in its first hours)."""
RETURN_GAP_DAYS = 3.0
"""Median days between two visits of the same visitor."""


def visit(p: Person, first_visit: float) -> None:
    """All sessions of one visitor; none ends in an order."""
    p.devices.append(Device(p.who.anonymous_ids[0], "mobile" if p.chance(0.55) else "web"))
    t = p.daytime(first_visit - first_visit % DAY)
    sessions = 1 + p.poisson(p.persona.sessions - 1)
    for i in range(sessions):
        if t >= p.end:
            return
        campaign, referrer, landing = _source(p, first=i == 0)
        s = Session(p, p.devices[0], t, campaign, referrer)
        category = p.rng.choice(tuple(CATEGORIES))
        viewed = browse(p, s, category, landing, promo_shown=0.3)
        if viewed and p.chance(CART_SHARE):
            s.emit("Product Added", p.catalogue.added_json[viewed[-1].product_id])
        t = p.daytime(s.at - s.at % DAY + p.lognormal(RETURN_GAP_DAYS, 0.8) * DAY)


def _source(p: Person, first: bool) -> tuple[dict[str, str] | None, str | None, tuple[str, str]]:
    if not first and p.chance(0.5):
        return None, None, ("Home", "/")
    source, medium = p.pick(p.persona.first_sources)
    return arrival(source, medium)
