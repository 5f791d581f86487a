"""`[web]` in klantreis.toml, typed: the dashboard's warm-up, cookies, proxies, login limits.

    [web]
    warm = true                          # compute the default pages at start-up
    stored_views = "all"                 # or "default": which views the routine stores
    secure_cookies = true                # else guessed: secure except plain HTTP to loopback
    trusted_proxies = ["10.0.0.2"]       # whose X-Forwarded-For names the client
    login_limit_per_user = "10/15minutes"
    login_limit_per_address = "30/15minutes"
    chromium = "/usr/bin/chromium"       # for PNG and PDF export

What each one does is in docs/web.md; a bad value stops `klantreis serve` with a message naming
the file, the section and the key.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, ClassVar, Literal

from limits import parse
from pydantic import Field, field_validator

from klantreis.config import SectionSettings

DEFAULT_PER_USER = "10/15minutes"
DEFAULT_PER_ADDRESS = "30/15minutes"


class WebSettings(SectionSettings):
    SECTION: ClassVar[str] = "web"

    warm: Annotated[bool, Field(description="true or false")] = True
    stored_views: Annotated[Literal["all", "default"], Field(description='"all" or "default"')] = (
        "all"
    )
    """Which views of the pages the routine computes and stores after each refresh: every
    period and persona view too ("all"), or only each page's default view ("default"): at 10M
    events "all" took about 370 s of CPU a pass, "default" about 11 (docs/scaling.md)."""
    secure_cookies: Annotated[bool | None, Field(description="true or false")] = None
    trusted_proxies: tuple[str, ...] = ()
    login_limit_per_user: str = DEFAULT_PER_USER
    login_limit_per_address: str = DEFAULT_PER_ADDRESS
    chromium: Annotated[str | None, Field(description="a path to Chromium")] = None
    lake_memory_limit: Annotated[
        str | None, Field(pattern=r"^\s*\d+(\.\d+)?\s*[KMGT]i?B\s*$", description='e.g. "2GB"')
    ] = None
    """DuckDB's cap in a lake's dashboard (`serve --dashboard`), which reads the lake's tables
    in memory; default DuckDB's own (80 % of the machine's memory)."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ValueError('write a list, e.g. ["10.0.0.2", "10.1.0.0/16"]')
        for item in value:
            try:
                ipaddress.ip_network(str(item).strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{str(item)[:60]!r} is not an address or network "
                    '(write e.g. "10.0.0.2" or "10.1.0.0/16")'
                ) from None
        return tuple(str(item).strip() for item in value)

    @field_validator("login_limit_per_user", "login_limit_per_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f'{exc} (write it like "10/15minutes")') from None
        return value


def web_settings(app: Any) -> WebSettings:
    """The app's `[web]` settings, read once (some are needed on every request)."""
    found: WebSettings | None = getattr(app.state, "web_settings", None)
    if found is None:
        found = app.state.web_settings = app.state.settings.section(WebSettings)
    return found
