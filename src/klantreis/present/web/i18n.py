"""The dashboard's languages (Dutch, English, Danish) and locale-aware numbers and dates.

Catalogues are standard gettext `.po` files under `locale/<lang>/LC_MESSAGES/`, read with Babel
when the server starts (no compile step, so a translator edits one file). Numbers, percentages,
dates and durations are formatted by Babel with the CLDR data of the chosen locale.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALES = ("nl", "en", "da")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "da": "Dansk"}


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translation for `lang` (empty for English, whose msgids are the text)."""
    path = resources.files("klantreis.present.web") / "locale" / lang / "LC_MESSAGES"
    po = path / "messages.po"
    if not po.is_file():
        return {}
    with po.open("rb") as fh:
        parsed = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}


def negotiate(accept_language: str | None) -> str:
    """The best of our locales for an Accept-Language header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LOCALES and quality > 0:
            choices.append((-quality, position, lang))
    return sorted(choices)[0][2] if choices else DEFAULT_LOCALE


@dataclass(frozen=True)
class Lang:
    """One locale's text and formats, handed to every template as `t`."""

    code: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str, **values: object) -> str:
        text = catalogue(self.code).get(message, message)
        return text.format(**values) if values else text

    def term(self, kind: str, key: object) -> str:
        """A vocabulary word (event, touchpoint, phase, topic, ...) in this language."""
        from klantreis.present.web.terms import term

        return term(kind, key, self.code)

    def persona(self, name: object) -> str:
        """A persona's name in this language (discovery stores it in English)."""
        from klantreis.present.web.terms import persona

        return persona(name, self.code)

    def num(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.code)

    def customers(self, count: int) -> str:
        """A count of customers ("1 customer", "1,439 customers"): singular for one."""
        if count == 1:
            return self.gettext("1 customer")
        return self.gettext("{buyers} customers", buyers=self.num(count))

    def signed(self, value: float | None, digits: int = 2) -> str:
        """A difference with its sign; one that rounds to zero has none (never "−0.00")."""
        if value is None:
            return "–"
        body = "#,##0." + "0" * digits if digits else "#,##0"
        if round(value, digits) == 0:
            return format_decimal(0, format=body, locale=self.code)
        return format_decimal(value, format=f"+{body};-{body}", locale=self.code)

    def money(self, value: float | None, currency: str | None, digits: int = 0) -> str:
        """An amount in the shop's currency (as its orders name it), or a plain number."""
        if value is None:
            return "–"
        if not currency:
            return self.num(value, digits)
        pattern = self.locale.currency_formats["standard"].pattern
        if not digits:
            pattern = pattern.replace(".00", "")
        return format_currency(
            value, currency, format=pattern, locale=self.locale, currency_digits=False
        )

    def pct(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=self.code)

    def utc(self, value: datetime | None) -> str:
        """A time the routine stored (UTC, naive), said as UTC: a reader in another zone
        knows whose clock it is."""
        if value is None:
            return "–"
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return f"{format_datetime(moment, format='medium', tzinfo=UTC, locale=self.code)} UTC"

    def date(self, value: date | datetime | None) -> str:
        return "–" if value is None else format_date(value, format="medium", locale=self.code)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return format_datetime(value, format="medium", locale=self.code)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return format_timedelta(
            timedelta(seconds=float(seconds)), threshold=1.2, format="short", locale=self.code
        )
