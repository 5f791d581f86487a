"""E-mail through a configured SMTP server (alerts, review requests, audience messages).

Settings come from the `[smtp]` section of klantreis.toml:

    [smtp]
    host = "localhost"
    port = 25
    sender = "klantreis@shop.example"
    username = ""          # optional
    password = ""          # optional
    starttls = false
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import ClassVar

from pydantic import Field

from klantreis.config import SectionSettings, Settings


class SmtpConfig(SectionSettings):
    SECTION: ClassVar[str] = "smtp"

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    sender: str = "klantreis@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = Field(10.0, gt=0)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configured server, or None when klantreis.toml has no [smtp] section."""
        return settings.section(cls) if settings.has_section(cls.SECTION) else None


def send_email(
    config: SmtpConfig, *, to: str, subject: str, text: str, html: str | None = None
) -> None:
    """Send one message; raises `smtplib.SMTPException` or `OSError` when it cannot."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)
