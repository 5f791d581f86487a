"""Login throttling: wrong passwords from one address, or for one user name, make the next
attempt wait.

Only failures are counted, so a person who types the password right is never held up unless
the limit was already reached. The counts live in memory (the `limits` library's moving window):
one server process owns the store file (DuckDB's single writer), so it sees every attempt; a
restart forgets them, which costs an attacker a restart of someone else's server.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from klantreis.config import parse_section
from klantreis.present.web.settings import DEFAULT_PER_ADDRESS, DEFAULT_PER_USER, WebSettings


class LoginThrottle:
    """Counts failed logins per user name and per client address within a moving window."""

    def __init__(
        self, per_user: str = DEFAULT_PER_USER, per_address: str = DEFAULT_PER_ADDRESS
    ) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._limits: list[tuple[str, RateLimitItem]] = [
            ("user", parse(per_user)),
            ("address", parse(per_address)),
        ]

    @classmethod
    def from_settings(cls, web: WebSettings | dict[str, Any]) -> LoginThrottle:
        """`[web] login_limit_per_user` / `login_limit_per_address`, e.g. "10/15minutes"."""
        if not isinstance(web, WebSettings):
            web = parse_section(WebSettings, web)
        return cls(web.login_limit_per_user, web.login_limit_per_address)

    def _keys(self, username: str, address: str) -> dict[str, str]:
        return {"user": username.strip().casefold(), "address": address}

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        keys = self._keys(username, address)
        waits = []
        for scope, item in self._limits:
            if not self._limiter.test(item, scope, keys[scope]):
                reset, _ = self._limiter.get_window_stats(item, scope, keys[scope])
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        keys = self._keys(username, address)
        for scope, item in self._limits:
            self._limiter.hit(item, scope, keys[scope])


def trusted_proxies(web: WebSettings | dict[str, Any]) -> list[str]:
    """`[web] trusted_proxies`: addresses or networks of the reverse proxies in front.

    Only their `X-Forwarded-For` is believed; by default nobody's is, since a header any client
    can write would give each guess a fresh address for the per-address limit.
    """
    if not isinstance(web, WebSettings):
        web = parse_section(WebSettings, web)
    return list(web.trusted_proxies)
