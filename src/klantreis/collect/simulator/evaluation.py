"""Evaluation: reviews and surveys whose scores and words react to what happened.

Review scores are drawn from the Olist distributions (15k-order sample): on time
1★ 6.6 %, 2★ 2.7 %, 3★ 8.3 %, 4★ 20.4 %, 5★ 62.0 % (mean 4.28); late 1★ 44.8 %, 2★ 7.7 %,
3★ 12.3 %, 4★ 12.8 %, 5★ 22.4 % (mean 2.60). A return, slow service or a product that was not
what its thin page made it seem pulls an on-time order's score down, so the simulated on-time
mean lands near 4.1 and the late mean near 2.6.
"""

from __future__ import annotations

from dataclasses import dataclass

from klantreis.collect.simulator.context import DAY, HOUR, Person

SCORES = {
    # what happened: weights of 1..5 stars
    "smooth": (0.045, 0.02, 0.07, 0.2, 0.665),
    "late": (0.448, 0.077, 0.123, 0.128, 0.224),
    # late, but the shop apologised soon after (a case acted on): fewer one-star reviews
    "late_recovered": (0.18, 0.08, 0.17, 0.25, 0.32),
    "returned": (0.12, 0.12, 0.26, 0.27, 0.23),
    "return_soured": (0.4, 0.18, 0.2, 0.12, 0.1),
    "slow_service": (0.3, 0.2, 0.2, 0.15, 0.15),
    "no_confirmation": (0.1, 0.08, 0.2, 0.27, 0.35),
    "not_as_described": (0.2, 0.12, 0.22, 0.22, 0.24),
}
PLATFORMS = {
    "nl": ("kiyoh", "trustpilot", "shop"),
    "dk": ("trustpilot", "shop"),
    "gb": ("trustpilot", "shop"),
}


@dataclass
class Experience:
    """What happened around one order, as far as the customer noticed."""

    late: bool = False
    late_days: float = 0.0
    returned: bool = False
    return_soured: bool = False
    """The return was rejected or slow (approval or refund)."""
    slow_service: bool = False
    no_confirmation: bool = False
    not_as_described: bool = False
    """The product was not what its page (one photo, a line of text) made it seem."""
    recovered: bool = False
    """The shop acted on the late delivery: a message about it right after delivery."""

    @property
    def outcome(self) -> str:
        if self.late:
            return "late_recovered" if self.recovered else "late"
        if self.slow_service:
            return "slow_service"
        if self.return_soured:
            return "return_soured"
        if self.returned:
            return "returned"
        if self.no_confirmation:
            return "no_confirmation"
        if self.not_as_described:
            return "not_as_described"
        return "smooth"

    @property
    def topic(self) -> str:
        """What the customer will talk about: the worst thing that happened."""
        return {
            "late": "delivery",
            "late_recovered": "delivery",
            "slow_service": "service",
            "return_soured": "service",
            "returned": "product",
            "no_confirmation": "communication",
            "not_as_described": "product",
        }.get(self.outcome, "praise")


def stars(p: Person, outcome: str) -> int:
    return int(p.pick(list(zip(range(1, 6), SCORES[outcome], strict=True))))


def review(
    p: Person,
    order_id: str,
    delivered: float,
    exp: Experience,
    product: str,
    settled: float | None = None,
) -> None:
    """Review request after delivery; some persons answer with a review. A customer who sent
    the order back writes it once the return is settled (`settled`: rejected or refunded)."""
    server = p.server_ids()
    requested = delivered + p.rng.uniform(2, 4) * DAY
    p.out.emit(
        requested,
        "Review Request Sent",
        **server,
        properties={"order_id": order_id, "survey_id": f"rv-{order_id}"},
    )
    keen = p.persona.reviews * (1.6 if exp.outcome != "smooth" else 1.0)
    if not p.chance(min(keen, 0.95)):
        if p.chance(0.1):
            survey(
                p,
                requested + p.rng.uniform(2, 48) * HOUR,
                "nps",
                stars(p, exp.outcome),
                topic=exp.topic,
                order_id=order_id,
            )
        return
    rating = stars(p, exp.outcome)
    topic = exp.topic
    if topic == "praise" and rating <= 3:
        topic = "product"
    title, text = p.voice.review(
        p.rng, topic, rating, days=max(1, round(exp.late_days)), product=product
    )
    platform = p.rng.choice(PLATFORMS[p.who.country])
    written = requested + p.lognormal(1.2 * DAY, 0.8)
    if settled is not None:
        written = max(written, settled + (written - requested))
    p.out.emit(
        written,
        "Review Submitted",
        **server,
        channel="review site" if platform != "shop" else "web",
        properties={
            "review_id": f"rv-{order_id}",
            "order_id": order_id,
            "rating": rating,
            "title": p.untrusted(title),
            "text": p.untrusted(text),
            "language": p.who.language,
            "platform": platform,
        },
    )
    if p.chance(0.3):
        survey(
            p,
            requested + p.rng.uniform(2, 48) * HOUR,
            "nps",
            rating,
            topic=topic,
            order_id=order_id,
        )


def survey(
    p: Person, at: float, kind: str, quality: int, *, topic: str, order_id: str | None
) -> None:
    """A survey answer: nps 0–10, csat 1–5 or ces 1–7 (7 = very easy), near `quality` 1–5."""
    q = max(1, min(5, quality + p.rng.choice((-1, 0, 0, 0, 1))))
    if kind == "nps":
        score = min(10, max(0, (0, 2, 5, 7, 9)[q - 1] + p.rng.randint(0, 1 + (q == 1))))
    elif kind == "csat":
        score = q
    else:
        score = min(7, max(1, round(q * 1.4 + p.rng.uniform(-0.6, 0.6))))
    polarity = "neg" if q <= 2 else "mixed" if q == 3 else "pos"
    props: dict[str, object] = {
        "survey_id": f"{kind}-{p.seed}-{p.who.index}",
        "kind": kind,
        "score": score,
        "phase": "service" if kind != "nps" else "evaluation",
        "language": p.who.language,
    }
    if order_id:
        props["order_id"] = order_id
    if p.chance(0.55):
        props["comment"] = p.untrusted(p.voice.survey_comment(p.rng, polarity, topic))
    p.out.emit(at, "Survey Answered", **p.server_ids(), properties=props)
