"""`simulate`: the whole demo shop, person by person, into one canonical event table."""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from klantreis.collect.simulator.awareness import campaigns
from klantreis.collect.simulator.catalogue import Catalogue, catalogue_table, make_catalogue
from klantreis.collect.simulator.config import Progress, SimulatedShop, SimulatorConfig
from klantreis.collect.simulator.context import DAY, Person
from klantreis.collect.simulator.emitter import Emitter
from klantreis.collect.simulator.people import LANGUAGE, Customer, make_customer
from klantreis.collect.simulator.personas import PERSONAS, VISITOR
from klantreis.collect.simulator.story import live
from klantreis.collect.simulator.visitors import visit
from klantreis.collect.simulator.voice import Voice
from klantreis.store.schema import EVENT_ARROW_SCHEMA

CHUNK = 2000
"""Persons per Arrow chunk, so memory stays flat as the shop grows."""

Truth = dict[str, list[object]]
"""The truth's columns as lists, filled person by person."""


def _weights(shares: dict[str, float]) -> tuple[list[str], np.ndarray]:
    names = sorted(shares)
    weights = np.array([shares[n] for n in names], dtype=float)
    return names, weights / weights.sum()


def _new_truth() -> Truth:
    return {
        "person": [],
        "user_id": [],
        "anonymous_ids": [],
        "persona": [],
        "country": [],
        "business": [],
    }


def truth_table(truth: Truth) -> pa.Table:
    return pa.table(
        {
            "person": pa.array(truth["person"], pa.int64()),
            "user_id": pa.array(truth["user_id"], pa.string()),
            "anonymous_ids": pa.array(truth["anonymous_ids"], pa.list_(pa.string())),
            "persona": pa.array(truth["persona"], pa.string()),
            "country": pa.array(truth["country"], pa.string()),
            "business": pa.array(truth["business"], pa.bool_()),
        }
    )


@dataclass
class Plan:
    """What is drawn for the whole shop before anyone's journey: every person's and visitor's
    attributes, each from a generator of its own, so the first k draws do not depend on the
    number of persons and any range of persons can be simulated apart (`parallel.py`)."""

    config: SimulatorConfig
    start: float
    end: float
    persona_names: list[str]
    personas: np.ndarray
    country_names: list[str]
    countries: np.ndarray
    consents: np.ndarray
    business: np.ndarray
    first_visits: np.ndarray
    family_email: np.ndarray
    shared_device: np.ndarray
    visitors: int
    visitor_countries: np.ndarray
    visitor_first_visits: np.ndarray
    catalogue: Catalogue
    voices: dict[str, Voice]

    @classmethod
    def of(cls, config: SimulatorConfig) -> Plan:
        n = config.persons
        start = float(calendar.timegm(datetime.combine(config.start, time()).timetuple()))
        end = start + config.days * DAY

        def stream(attribute: int) -> np.random.Generator:
            return np.random.default_rng([config.seed, attribute])

        persona_names, persona_p = _weights(config.persona_shares)
        personas = stream(1).choice(len(persona_names), size=n, p=persona_p)
        country_names, country_p = _weights(config.country_shares)
        countries = stream(2).choice(len(country_names), size=n, p=country_p)
        consent_p = np.array([PERSONAS[name].consent for name in persona_names])[personas]
        visitors = round(n * config.visitors_per_person)
        return cls(
            config=config,
            start=start,
            end=end,
            persona_names=persona_names,
            personas=personas,
            country_names=country_names,
            countries=countries,
            consents=stream(3).random(n) < consent_p,
            business=stream(4).random(n) < config.company_share,
            first_visits=start + stream(5).random(n) * 0.85 * config.days * DAY,
            family_email=stream(6).random(n) < config.family_email_share,
            shared_device=stream(7).random(n) < config.shared_device_share,
            visitors=visitors,
            visitor_countries=stream(8).choice(len(country_names), size=visitors, p=country_p),
            visitor_first_visits=end
            - config.days * DAY
            + stream(9).random(visitors) * config.days * DAY,
            catalogue=Catalogue(make_catalogue(random.Random(f"{config.seed}:catalogue"))),
            voices={lang: Voice(lang) for lang in set(LANGUAGE.values())},
        )

    def customer(self, i: int, rng: random.Random) -> Customer:
        """Person `i` as drawn from `rng` (their own stream, which their journey goes on
        drawing from), without what they share with the person before them."""
        config = self.config
        return make_customer(
            rng,
            index=i,
            seed=config.seed,
            persona=self.persona_names[self.personas[i]],
            country=self.country_names[self.countries[i]],
            consent=bool(self.consents[i]),
            business=bool(self.business[i]),
            today=config.start,
        )

    def share(self, who: Customer, previous: Customer | None) -> None:
        """A household e-mail address or the family computer, taken over from the person
        simulated before (same country)."""
        i = who.index
        if previous is not None and previous.country == who.country:
            if self.family_email[i]:
                who.email, who.last_name = previous.email, previous.last_name
            if self.shared_device[i]:
                who.anonymous_ids[0] = previous.anonymous_ids[0]

    def previous(self, i: int) -> Customer | None:
        """Person `i - 1` as the serial simulation has them when it reaches `i` (what they
        took over from the person before them included): for a range starting at `i`."""
        if i == 0:
            return None
        who = self.customer(i - 1, random.Random(f"{self.config.seed}:{i - 1}"))
        if self.family_email[i - 1] or self.shared_device[i - 1]:
            self.share(who, self.previous(i - 1))
        return who

    def persons(self, lo: int, hi: int, truth: Truth) -> Iterator[pa.Table]:
        """Events of persons `lo`..`hi - 1`, a chunk at a time; their truth rows into `truth`."""
        config = self.config
        out = Emitter(config.seed)
        previous = self.previous(lo)
        for i in range(lo, hi):
            prng = random.Random(f"{config.seed}:{i}")
            who = self.customer(i, prng)
            self.share(who, previous)
            previous = who
            p = Person(
                rng=prng,
                out=out,
                who=who,
                persona=PERSONAS[who.persona],
                catalogue=self.catalogue,
                voice=self.voices[who.language],
                seed=config.seed,
                end=self.end,
                html_share=config.html_text_share,
                second_device_share=config.second_device_share,
            )
            out.begin_person(i)
            live(p, float(self.first_visits[i]))
            campaigns(p, self.start)
            truth["person"].append(i)
            truth["user_id"].append(who.user_id if p.identified else None)
            truth["anonymous_ids"].append(list(who.anonymous_ids))
            truth["persona"].append(who.persona)
            truth["country"].append(who.country)
            truth["business"].append(who.company is not None)
            if len(out) and ((i + 1) % CHUNK == 0 or i == hi - 1):
                yield out.table()
                out = Emitter(config.seed)

    def visitors_of(self, lo: int, hi: int, truth: Truth) -> Iterator[pa.Table]:
        """The anonymous visitors `lo`..`hi - 1`, after the persons: truth rows
        `persons + j`, message ids of their own."""
        config = self.config
        n = config.persons
        out = Emitter(config.seed)
        for j in range(lo, hi):
            country = self.country_names[self.visitor_countries[j]]
            rng = random.Random(f"{config.seed}:visitor:{j}")
            who = make_customer(
                rng,
                index=j,
                seed=config.seed,
                persona=VISITOR.name,
                country=country,
                consent=False,
                business=False,
                today=config.start,
            )
            p = Person(
                rng=rng,
                out=out,
                who=who,
                persona=VISITOR,
                catalogue=self.catalogue,
                voice=self.voices[who.language],
                seed=config.seed,
                end=self.end,
                html_share=0.0,
            )
            out.begin_person(j, visitor=True)
            visit(p, float(self.visitor_first_visits[j]))
            truth["person"].append(n + j)
            truth["user_id"].append(None)
            truth["anonymous_ids"].append(list(who.anonymous_ids))
            truth["persona"].append(VISITOR.name)
            truth["country"].append(country)
            truth["business"].append(False)
            if len(out) >= 20 * CHUNK:
                yield out.table()
                out = Emitter(config.seed)
        if len(out):
            yield out.table()


class ShopStream:
    """The simulated shop as it is made: chunks of events in the order they are simulated
    (person by person, the visitors last), then its truth and catalogue.

    For shops too large to hold at once: the demo at 100,000 persons makes about 18M events,
    some 8 GB as Arrow, which a store takes chunk by chunk (`Store.append_many`). The events
    are those `simulate` returns for the same config; only their order differs (`simulate`
    sorts them by time). `workers` > 1 simulates ranges of persons in that many processes
    (`parallel.py`), with the same events in the same order. `truth` is set once every chunk
    has been read.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        progress: Progress | None = None,
        *,
        workers: int = 1,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.progress = progress
        self.workers = workers
        self.truth: pa.Table | None = None
        self.products: pa.Table | None = None

    def __iter__(self) -> Iterator[pa.Table]:
        if self.workers > 1:
            from klantreis.collect.simulator.parallel import simulate_in_processes

            yield from simulate_in_processes(self, self.workers)
            return
        plan = Plan.of(self.config)
        self.products = catalogue_table(plan.catalogue.products)
        n, truth, progress = self.config.persons, _new_truth(), self.progress
        total = n + plan.visitors
        for lo in range(0, n, CHUNK):
            yield from plan.persons(lo, min(n, lo + CHUNK), truth)
            if progress is not None:
                progress(min(n, lo + CHUNK), total)
        for lo in range(0, plan.visitors, 20 * CHUNK):
            yield from plan.visitors_of(lo, min(plan.visitors, lo + 20 * CHUNK), truth)
            if progress is not None:
                progress(n + min(plan.visitors, lo + 20 * CHUNK), total)
        self.truth = truth_table(truth)


def simulate(
    config: SimulatorConfig | None = None, progress: Progress | None = None
) -> SimulatedShop:
    """Simulate the shop described by `config`; the same config gives byte-identical events,
    sorted by time (then message id)."""
    shop = ShopStream(config, progress)
    chunks = list(shop)
    events = pa.concat_tables(chunks) if chunks else EVENT_ARROW_SCHEMA.empty_table()
    order = pc.sort_indices(
        events, sort_keys=[("timestamp", "ascending"), ("message_id", "ascending")]
    )
    assert shop.truth is not None  # set when the stream ends
    return SimulatedShop(
        config=shop.config, events=events.take(order), truth=shop.truth, products=shop.products
    )
