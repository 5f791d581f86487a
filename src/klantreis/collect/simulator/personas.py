"""The five built-in personas and the behaviour that tells them apart.

Persona discovery (issue 8) must find these groups back from behaviour alone, so every persona
differs from the others in several measurable ways (searching, filtering, order value and
frequency, app use, e-mail engagement, coupons, returns, support contact), not in one knob.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    description: str
    journeys: float
    """Mean purchase cycles in 180 days (scaled to the simulated period)."""
    sessions: float
    """Mean browsing sessions per cycle before deciding."""
    searches: float
    """Mean searches per session."""
    filter_rate: float
    """Chance that a search is narrowed with filters or sorting."""
    product_views: float
    """Mean product pages per session."""
    dwell: float
    """Median seconds between two page events in a session."""
    conversion: float
    """Chance that a cycle ends with an order."""
    price_level: float
    """Multiplier on the price of the products looked at and bought."""
    items: float
    """Mean products per order."""
    app_share: float
    """Share of sessions in the app rather than the website."""
    consent: float
    """Chance to consent to marketing e-mail."""
    email_open: float
    email_click: float
    """Chance to click a link in an opened marketing e-mail."""
    promo_click: float
    """Chance to click a promotion that is shown."""
    coupon: float
    """Chance to apply a coupon at checkout."""
    returns: float
    """Chance to return an order (fashion is more likely to come back)."""
    tickets: float
    """Chance to open a support ticket about an order without a problem behind it."""
    chat: float
    """Chance to use live chat in a cycle."""
    reviews: float
    """Chance to write a review after delivery."""
    first_touch: tuple[tuple[str, str, float], ...]
    """How the person first finds the shop: (utm_source, utm_medium, weight)."""

    @cached_property
    def first_sources(self) -> tuple[tuple[tuple[str, str], float], ...]:
        """`first_touch` as ((source, medium), weight) for `Person.pick`, made once per
        persona instead of at every session that needs it."""
        return tuple(((s, m), w) for s, m, w in self.first_touch)


PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona(
            name="careful_comparer",
            share=0.22,
            description="Searches, filters and compares many products for a long time; "
            "buys rarely, spends more, almost never returns.",
            journeys=1.6,
            sessions=4.5,
            searches=2.2,
            filter_rate=0.75,
            product_views=4.5,
            dwell=55.0,
            conversion=0.55,
            price_level=1.5,
            items=1.1,
            app_share=0.08,
            consent=0.35,
            email_open=0.15,
            email_click=0.15,
            promo_click=0.05,
            coupon=0.03,
            returns=0.04,
            tickets=0.05,
            chat=0.04,
            reviews=0.55,
            first_touch=(
                ("google", "organic", 0.6),
                ("tweakers", "referral", 0.25),
                ("bing", "organic", 0.15),
            ),
        ),
        Persona(
            name="bargain_hunter",
            share=0.22,
            description="Comes for promotions and coupons, sorts by price, buys cheap "
            "products in small orders.",
            journeys=3.0,
            sessions=2.2,
            searches=1.2,
            filter_rate=0.55,
            product_views=3.0,
            dwell=25.0,
            conversion=0.6,
            price_level=0.45,
            items=1.4,
            app_share=0.15,
            consent=0.8,
            email_open=0.45,
            email_click=0.45,
            promo_click=0.65,
            coupon=0.7,
            returns=0.08,
            tickets=0.06,
            chat=0.04,
            reviews=0.3,
            first_touch=(
                ("kieskeurig", "referral", 0.35),
                ("google", "cpc", 0.4),
                ("newsletter", "email", 0.25),
            ),
        ),
        Persona(
            name="loyal_regular",
            share=0.18,
            description="Orders again and again, mostly in the app, opens the newsletter; "
            "goes straight to the product.",
            journeys=7.0,
            sessions=1.2,
            searches=0.4,
            filter_rate=0.08,
            product_views=1.6,
            dwell=20.0,
            conversion=0.9,
            price_level=1.0,
            items=1.8,
            app_share=0.75,
            consent=0.9,
            email_open=0.6,
            email_click=0.3,
            promo_click=0.15,
            coupon=0.1,
            returns=0.05,
            tickets=0.04,
            chat=0.03,
            reviews=0.35,
            first_touch=(("direct", "none", 0.5), ("newsletter", "email", 0.5)),
        ),
        Persona(
            name="impulse_buyer",
            share=0.22,
            description="Short sessions from social media, buys fast without comparing, "
            "returns often.",
            journeys=2.6,
            sessions=1.0,
            searches=0.15,
            filter_rate=0.03,
            product_views=1.8,
            dwell=12.0,
            conversion=0.75,
            price_level=0.9,
            items=1.5,
            app_share=0.35,
            consent=0.5,
            email_open=0.2,
            email_click=0.35,
            promo_click=0.35,
            coupon=0.08,
            returns=0.3,
            tickets=0.05,
            chat=0.03,
            reviews=0.25,
            first_touch=(
                ("instagram", "social", 0.5),
                ("facebook", "social", 0.3),
                ("tiktok", "social", 0.2),
            ),
        ),
        Persona(
            name="service_seeker",
            share=0.16,
            description="Asks support before and after buying, prefers chat, tickets repeat.",
            journeys=2.0,
            sessions=2.0,
            searches=0.8,
            filter_rate=0.2,
            product_views=2.5,
            dwell=35.0,
            conversion=0.65,
            price_level=1.1,
            items=1.2,
            app_share=0.1,
            consent=0.45,
            email_open=0.25,
            email_click=0.2,
            promo_click=0.1,
            coupon=0.05,
            returns=0.12,
            tickets=0.6,
            chat=0.55,
            reviews=0.4,
            first_touch=(
                ("google", "organic", 0.5),
                ("direct", "none", 0.3),
                ("google", "cpc", 0.2),
            ),
        ),
    )
}


VISITOR = Persona(
    name="visitor",
    share=0.0,
    description="Comes once or twice from a search engine, an ad or social media, looks at a "
    "product or two and leaves without buying; never logs in.",
    journeys=1.0,
    sessions=1.2,
    searches=0.3,
    filter_rate=0.2,
    product_views=1.2,
    dwell=20.0,
    conversion=0.0,
    price_level=1.0,
    items=1.0,
    app_share=0.0,
    consent=0.0,
    email_open=0.0,
    email_click=0.0,
    promo_click=0.08,
    coupon=0.0,
    returns=0.0,
    tickets=0.0,
    chat=0.0,
    reviews=0.0,
    first_touch=(
        ("google", "organic", 0.35),
        ("google", "cpc", 0.2),
        ("instagram", "paid_social", 0.12),
        ("facebook", "paid_social", 0.08),
        ("tiktok", "paid_social", 0.05),
        ("kieskeurig", "referral", 0.08),
        ("direct", "none", 0.12),
    ),
)
"""The many visitors who never buy (simulated beside the persons, see `visitors.py`). Not in
`PERSONAS`: it is not a customer persona, and persona shares do not apply to it."""
