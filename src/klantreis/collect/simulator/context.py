"""The state one simulated person carries through their journeys."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypedDict

from klantreis.collect.simulator.catalogue import Catalogue, Product
from klantreis.collect.simulator.emitter import Emitter, dumps
from klantreis.collect.simulator.people import LOCALE, TIMEZONE, Customer
from klantreis.collect.simulator.personas import Persona
from klantreis.collect.simulator.voice import Voice

_WEIGHT = itemgetter(1)
HOUR = 3600.0
DAY = 86400.0

UNTRUSTED_TEXTS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(document.cookie)>',
    '<b>Top</b> <a href="javascript:alert(1)">klik</a>',
)
"""Script-like input real shops receive; the simulator slips it into a few customer texts."""


def skip_sunday(day_start: float) -> float:
    """The same day, or Monday when it is a Sunday (carriers do not deliver then)."""
    sunday = (int(day_start // DAY) + 3) % 7 == 6  # 1970-01-01 was a Thursday
    return day_start + DAY if sunday else day_start


USER_AGENTS = {
    "web": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0",
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile",
    "app": "KlantreisShop/3.4.1 (Android 15)",
}


@lru_cache(maxsize=4096)
def session_context(
    kind: str, country: str, campaign: tuple[tuple[str, str], ...] | None, referrer: str | None
) -> str | None:
    """`Person.context` for a device of `kind` in `country`, as JSON text."""
    ctx: dict[str, Any] = {
        "library": {"name": "analytics-kotlin" if kind == "app" else "analytics.js"},
        "locale": LOCALE[country],
        "timezone": TIMEZONE[country],
        "userAgent": USER_AGENTS[kind],
        "device": {"type": "mobile" if kind != "web" else "desktop"},
    }
    if campaign:
        ctx["campaign"] = dict(campaign)
    if referrer:
        ctx["referrer"] = {"url": referrer}
    return dumps(ctx)


class Ids(TypedDict):
    """Who an event is about, as the sending side knows it."""

    user_id: str | None
    anonymous_id: str | None


@dataclass
class Device:
    anonymous_id: str
    kind: str
    """`web`, `mobile` (mobile browser) or `app`."""
    linked: bool = False
    """Whether this device has told the shop who uses it (identify or alias sent)."""
    channel: str = field(init=False)
    """`app` for the app, else `web`."""

    def __post_init__(self) -> None:
        self.channel = "app" if self.kind == "app" else "web"


@dataclass
class Person:
    """One person's simulation: their random stream, their devices and what happened so far."""

    rng: random.Random
    out: Emitter
    who: Customer
    persona: Persona
    catalogue: Catalogue
    voice: Voice
    seed: int
    end: float
    html_share: float
    second_device_share: float = 0.25
    devices: list[Device] = field(default_factory=list)
    identified: bool = False
    identified_at: float = float("inf")
    second_device_decided: bool = False
    bought: list[Product] = field(default_factory=list)
    orders: int = 0
    tickets: int = 0
    chats: int = 0
    returns: int = 0
    soured: bool = False
    """A return of theirs was rejected or slow: they buy less often afterwards."""
    sessions: int = 0
    last_order_at: float = 0.0

    # -- identity -------------------------------------------------------------------------
    def device_ids(self, device: Device) -> Ids:
        """Browser/app events carry the device's anonymous id, plus the user id once known."""
        return {
            "user_id": self.who.user_id if device.linked else None,
            "anonymous_id": device.anonymous_id,
        }

    def server_ids(self) -> Ids:
        """Back-office events (orders, e-mail, carrier, support) know only the customer."""
        if self.identified:
            return {"user_id": self.who.user_id, "anonymous_id": None}
        return {"user_id": None, "anonymous_id": self.devices[0].anonymous_id}

    # -- context --------------------------------------------------------------------------
    def context(
        self, device: Device, campaign: dict[str, str] | None = None, referrer: str | None = None
    ) -> str | None:
        """The JSON context a session's events share: the same few texts for every person
        of a country, made once (`session_context`)."""
        return session_context(
            device.kind,
            self.who.country,
            tuple(campaign.items()) if campaign else None,
            referrer or None,
        )

    # -- randomness -----------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def poisson(self, mean: float) -> int:
        """Knuth's method: small means only, and it keeps one `random.Random` stream."""
        if mean <= 0:
            return 0
        limit, k, prod = math.exp(-mean), 0, self.rng.random()
        while prod > limit:
            k += 1
            prod *= self.rng.random()
        return k

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def pick(self, weighted: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
        total = sum(map(_WEIGHT, weighted))  # the same additions in the same order
        u = self.rng.random() * total
        for value, weight in weighted:
            u -= weight
            if u <= 0:
                return value
        return weighted[-1][0]

    def daytime(self, day_start: float) -> float:
        """A moment in the waking hours (local evening peak) of the day starting at UTC 0h."""
        return day_start + self.rng.triangular(6.0, 22.5, 19.5) * HOUR

    def untrusted(self, text: str) -> str:
        """Now and then a customer text carries markup, as untrusted input does."""
        if self.chance(self.html_share):
            return f"{text} {self.rng.choice(UNTRUSTED_TEXTS)}"
        return text
