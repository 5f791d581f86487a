"""What the simulator is asked to make and what it hands back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from klantreis.collect.simulator.personas import PERSONAS

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)` while the shop is simulated: persons first, then visitors."""


@dataclass(frozen=True)
class SimulatorConfig:
    """The size and the knobs of one simulated webshop.

    The same config (seed included) always gives byte-identical events.
    """

    persons: int = 2000
    seed: int = 7
    start: date = date(2026, 1, 1)
    days: int = 180
    persona_shares: dict[str, float] = field(
        default_factory=lambda: {name: p.share for name, p in PERSONAS.items()}
    )
    """Share of persons per persona; normalised, so weights work too."""
    country_shares: dict[str, float] = field(
        default_factory=lambda: {"nl": 0.5, "dk": 0.25, "gb": 0.25}
    )
    company_share: float = 0.08
    """Persons who buy for a business (trait `company`)."""
    second_device_share: float = 0.25
    """Identified persons who later also use a second device (its anonymous id is linked)."""
    html_text_share: float = 0.004
    """Customer texts that carry HTML/script as untrusted input, to keep renderers honest."""
    visitors_per_person: float = 15.0
    """Anonymous visitors who browse and never buy, per simulated person (see `visitors.py`):
    the traffic that brings the shop's conversion down to what real shops see."""
    family_email_share: float = 0.01
    """Persons who share the e-mail address of the person simulated before them (a household
    address, same country): two accounts, one address, and stitching must not merge them."""
    shared_device_share: float = 0.01
    """Persons who first browse on the device of the person simulated before them (the family
    computer, same country): one anonymous id, two customers."""

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError(f"persons: must be at least 1, got {self.persons}")
        if self.days < 1:
            raise ValueError(f"days: must be at least 1, got {self.days}")
        unknown = set(self.persona_shares) - set(PERSONAS)
        if unknown:
            raise ValueError(f"persona_shares: unknown persona {sorted(unknown)[0]!r}")
        unknown = set(self.country_shares) - {"nl", "dk", "gb"}
        if unknown:
            raise ValueError(f"country_shares: unknown country {sorted(unknown)[0]!r}")
        for name, shares in (
            ("persona_shares", self.persona_shares),
            ("country_shares", self.country_shares),
        ):
            if any(weight < 0 for weight in shares.values()) or sum(shares.values()) <= 0:
                raise ValueError(f"{name}: weights must be >= 0 and add up to more than 0")
        if not 0.0 <= self.visitors_per_person <= 1000.0:
            raise ValueError(
                f"visitors_per_person: must be between 0 and 1000, got {self.visitors_per_person}"
            )
        for name in (
            "company_share",
            "second_device_share",
            "html_text_share",
            "family_email_share",
            "shared_device_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class SimulatedShop:
    """Canonical events of the simulated shop plus the ground truth they were made from.

    `truth` (user_id, anonymous_ids, persona) is never written into the events: it is what
    identity stitching and persona discovery are checked against. It has one row per person
    (`person` 0 … persons-1) and then one per visitor (persona `visitor`, no user id).
    """

    config: SimulatorConfig
    events: pa.Table
    truth: pa.Table
    products: pa.Table | None = None
    """The shop's product catalogue (photos, description, specifications per product), as
    rows of the `products` table."""

    def iter_batches(self, size: int = 10_000) -> Iterator[pa.Table]:
        """The events in time order, `size` rows at a time (for progress while loading)."""
        if size < 1:
            raise ValueError(f"size: must be at least 1, got {size}")
        for offset in range(0, self.events.num_rows, size):
            yield self.events.slice(offset, size)
