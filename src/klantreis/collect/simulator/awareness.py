"""Awareness by e-mail: the shop's marketing campaigns and what each person does with them.

Campaigns go out every two weeks to identified persons who consented to marketing. A small
share is sent by mistake to persons who did not consent, so the consent expectation
(`consented_contact_only`) has real breaches to find.
"""

from __future__ import annotations

from klantreis.collect.simulator.context import DAY, HOUR, Ids, Person
from klantreis.collect.simulator.shopping import Session, browse, fill_cart
from klantreis.collect.simulator.story import buy

CAMPAIGN_EVERY = 14 * DAY
MISTAKEN_SEND = 0.03
"""Chance a campaign reaches a person without marketing consent."""
SUBJECTS = {
    "nl": (
        "Nieuw binnen: de voorjaarscollectie",
        "Alleen dit weekend: 20% korting",
        "Gratis verzending op alles",
        "Onze favorieten van deze maand",
    ),
    "da": (
        "Nyt i butikken: forårskollektionen",
        "Kun i weekenden: 20% rabat",
        "Gratis fragt på alt",
        "Månedens favoritter",
    ),
    "en": (
        "New in: the spring collection",
        "This weekend only: 20% off",
        "Free shipping on everything",
        "Our favourites this month",
    ),
}


def campaigns(p: Person, start: float) -> None:
    """Every campaign this person receives after identifying, with opens, clicks and visits."""
    if not p.identified:
        return
    who = p.who
    server = Ids(user_id=who.user_id, anonymous_id=None)
    number = 0
    sent = start + 4 * DAY + 7 * HOUR
    while sent < p.end:
        number += 1
        at, sent = sent, sent + CAMPAIGN_EVERY
        if at <= p.identified_at:
            continue
        if not (who.consent_marketing or p.chance(MISTAKEN_SEND)):
            continue
        campaign_id = f"cmp-{number:02d}"
        email_id = f"E-{p.seed}-{who.index:06d}-{number:02d}"
        subject = SUBJECTS[who.language][number % 4]
        base = {"email_id": email_id, "campaign_id": campaign_id, "kind": "marketing"}
        p.out.emit(
            at + p.rng.uniform(0, 1800),
            "Email Delivered",
            **server,
            properties={**base, "email_subject": subject},
        )
        if not who.consent_marketing and p.chance(0.25):
            p.out.emit(
                at + p.lognormal(5 * HOUR, 1.0),
                "Unsubscribed",
                **server,
                properties={"list_id": "newsletter", "campaign_id": campaign_id},
            )
            return
        if not p.chance(p.persona.email_open):
            continue
        opened = at + p.lognormal(3 * HOUR, 1.0)
        p.out.emit(opened, "Email Opened", **server, properties={**base, "email_subject": subject})
        if not p.chance(p.persona.email_click):
            continue
        clicked = opened + p.rng.uniform(5, 90)
        utm = {"source": "newsletter", "medium": "email", "name": campaign_id}
        p.out.emit(
            clicked,
            "Email Link Clicked",
            **server,
            properties={
                **base,
                "link_url": f"https://shop.example/acties?utm_source=newsletter"
                f"&utm_medium=email&utm_campaign={campaign_id}",
            },
        )
        device = p.devices[-1] if p.devices[-1].linked else p.devices[0]
        s = Session(p, device, clicked + 2, utm, None)
        category = p.rng.choice(("fashion", "beauty", "home", "toys"))
        viewed = browse(
            p, s, category, ("Promotions", "/acties"), promo_shown=0.95, may_leave=False
        )
        if p.chance(p.persona.coupon * 0.35):
            buy(p, s, fill_cart(p, s, viewed))
