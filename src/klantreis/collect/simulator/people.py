"""Fake but believable customers: names, e-mail addresses and traits for nl, dk and gb.

E-mail addresses use reserved example domains (RFC 2606 style), so a demo store wired to the
notify module can never mail a real person.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

FIRST_NAMES = {
    "nl": (
        "Sanne",
        "Daan",
        "Emma",
        "Lucas",
        "Fleur",
        "Jeroen",
        "Anouk",
        "Bram",
        "Lotte",
        "Thijs",
        "Eva",
        "Ruben",
        "Iris",
        "Sem",
        "Noor",
        "Joris",
        "Femke",
        "Stijn",
        "Maaike",
        "Pieter",
        "Marieke",
        "Wouter",
        "Esther",
        "Koen",
        "Annelies",
        "Gert-Jan",
        "Ilse",
    ),
    "dk": (
        "Mette",
        "Søren",
        "Freja",
        "Mads",
        "Ida",
        "Magnus",
        "Sofie",
        "Rasmus",
        "Emma",
        "Frederik",
        "Line",
        "Anders",
        "Camilla",
        "Jonas",
        "Maja",
        "Kasper",
        "Louise",
        "Mikkel",
        "Signe",
        "Jesper",
        "Karen",
        "Niels",
        "Astrid",
        "Thomas",
    ),
    "gb": (
        "Oliver",
        "Amelia",
        "Harry",
        "Isla",
        "George",
        "Olivia",
        "Jack",
        "Emily",
        "Charlie",
        "Sophie",
        "Thomas",
        "Grace",
        "James",
        "Chloe",
        "William",
        "Lucy",
        "Siobhan",
        "Rhys",
        "Priya",
        "Mohammed",
        "Hannah",
        "Callum",
        "Aisha",
        "Ewan",
    ),
}
LAST_NAMES = {
    "nl": (
        "de Vries",
        "Jansen",
        "van Dijk",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Leeuwen",
        "Dekker",
        "Brouwer",
        "van der Berg",
        "Kok",
        "Jacobs",
        "Schouten",
        "van den Heuvel",
    ),
    "dk": (
        "Nielsen",
        "Jensen",
        "Hansen",
        "Pedersen",
        "Andersen",
        "Christensen",
        "Larsen",
        "Sørensen",
        "Rasmussen",
        "Jørgensen",
        "Madsen",
        "Kristensen",
        "Olsen",
        "Thomsen",
        "Poulsen",
        "Johansen",
        "Møller",
        "Mortensen",
    ),
    "gb": (
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "Hughes",
        "Green",
        "Clarke",
        "Patel",
        "Murphy",
        "O'Connor",
        "Khan",
        "MacDonald",
        "Lewis",
    ),
}
COMPANY_FORMS = {
    "nl": (
        ("Bouwbedrijf", "B.V."),
        ("Installatietechniek", "B.V."),
        ("Kantoor", "V.O.F."),
        ("Bakkerij", ""),
        ("Adviesgroep", "B.V."),
    ),
    "dk": (
        ("Byg", "ApS"),
        ("El-service", "ApS"),
        ("Rådgivning", "A/S"),
        ("Tømrer", ""),
        ("Handel", "ApS"),
    ),
    "gb": (
        ("Building", "Ltd"),
        ("Consulting", "Ltd"),
        ("& Sons", ""),
        ("Electrical", "Ltd"),
        ("Trading", "LLP"),
    ),
}
EMAIL_DOMAINS = {
    "nl": ("example.nl", "mail.example", "post.example"),
    "dk": ("example.dk", "mail.example", "post.example"),
    "gb": ("example.co.uk", "mail.example", "post.example"),
}
LANGUAGE = {"nl": "nl", "dk": "da", "gb": "en"}
LOCALE = {"nl": "nl-NL", "dk": "da-DK", "gb": "en-GB"}
TIMEZONE = {"nl": "Europe/Amsterdam", "dk": "Europe/Copenhagen", "gb": "Europe/London"}
REGIONS = {
    "nl": (
        "Noord-Holland",
        "Zuid-Holland",
        "Utrecht",
        "Noord-Brabant",
        "Gelderland",
        "Groningen",
        "Limburg",
        "Overijssel",
    ),
    "dk": ("Hovedstaden", "Midtjylland", "Syddanmark", "Sjælland", "Nordjylland"),
    "gb": ("London", "South East", "North West", "Scotland", "West Midlands", "Wales", "Yorkshire"),
}


@dataclass
class Customer:
    """One simulated person and what the shop may learn about them."""

    index: int
    persona: str
    country: str
    user_id: str
    anonymous_ids: list[str]
    first_name: str
    last_name: str
    email: str
    birthday: str
    consent_marketing: bool
    company: str | None
    region: str

    @property
    def language(self) -> str:
        return LANGUAGE[self.country]

    def traits(self) -> dict[str, object]:
        traits: dict[str, object] = {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": f"{self.first_name} {self.last_name}",
            "country": self.country,
            "language": self.language,
            "consent_marketing": self.consent_marketing,
            "birthday": self.birthday,
        }
        if self.company:
            traits["company"] = {"name": self.company}
        return traits


@cache
def _ascii(text: str) -> str:
    """`text` as the local part of an e-mail address; cached, since the handles are a few
    thousand combinations of the name lists."""
    text = text.replace("ø", "oe").replace("Ø", "Oe").replace("æ", "ae").replace("å", "aa")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


def make_customer(
    rng: random.Random,
    *,
    index: int,
    seed: int,
    persona: str,
    country: str,
    consent: bool,
    business: bool,
    today: date,
) -> Customer:
    first = rng.choice(FIRST_NAMES[country])
    last = rng.choice(LAST_NAMES[country])
    handle = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}"))
    # The index makes every address unique: names repeat, addresses of two customers do not
    # (households that share one are simulated on purpose, see `family_email_share`).
    email = f"{_ascii(handle.replace(' ', ''))}{index}@{rng.choice(EMAIL_DOMAINS[country])}"
    age_days = rng.randint(18 * 365, 78 * 365)
    company = None
    if business:
        kind, suffix = rng.choice(COMPANY_FORMS[country])
        company = " ".join(part for part in (last, kind, suffix) if part)
    return Customer(
        index=index,
        persona=persona,
        country=country,
        user_id=f"cus_{seed}_{index:06d}",
        anonymous_ids=[f"anon-{rng.getrandbits(64):016x}"],
        first_name=first,
        last_name=last,
        email=email,
        birthday=(today - timedelta(days=age_days)).isoformat(),
        consent_marketing=consent,
        company=company,
        region=rng.choice(REGIONS[country]),
    )
