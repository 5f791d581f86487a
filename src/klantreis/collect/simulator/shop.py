"""`simulate`: the whole demo shop, person by person, into one canonical event table."""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Iterator
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


def _weights(shares: dict[str, float]) -> tuple[list[str], np.ndarray]:
    names = sorted(shares)
    weights = np.array([shares[n] for n in names], dtype=float)
    return names, weights / weights.sum()


def _visitors(
    config: SimulatorConfig,
    count: int,
    stream: Callable[[int], np.random.Generator],
    out: Emitter,
    truth: dict[str, list[object]],
    catalogue: Catalogue,
    voices: dict[str, Voice],
    end: float,
    progress: Progress | None,
) -> Iterator[pa.Table]:
    """The anonymous visitors, after the persons: truth rows `persons + j`, own message ids.
    Yields full chunks of events and, at the end, what is left in the emitter."""
    n = config.persons
    start = end - config.days * DAY
    country_names, country_p = _weights(config.country_shares)
    countries = stream(8).choice(len(country_names), size=count, p=country_p)
    first_visits = start + stream(9).random(count) * config.days * DAY
    for j in range(count):
        country = country_names[countries[j]]
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
            catalogue=catalogue,
            voice=voices[who.language],
            seed=config.seed,
            end=end,
            html_share=0.0,
        )
        out.begin_person(j, visitor=True)
        visit(p, float(first_visits[j]))
        truth["person"].append(n + j)
        truth["user_id"].append(None)
        truth["anonymous_ids"].append(list(who.anonymous_ids))
        truth["persona"].append(VISITOR.name)
        truth["country"].append(country)
        truth["business"].append(False)
        if len(out) >= 20 * CHUNK:
            yield out.table()
            out = Emitter(config.seed)
        if progress is not None and ((j + 1) % 1000 == 0 or j == count - 1):
            progress(n + j + 1, n + count)
    if len(out):
        yield out.table()


class ShopStream:
    """The simulated shop as it is made: chunks of events in the order they are simulated
    (person by person, the visitors last), then its truth and catalogue.

    For shops too large to hold at once: the demo at 100,000 persons makes about 18M events,
    some 8 GB as Arrow, which a store takes chunk by chunk (`Store.append_many`). The events
    are those `simulate` returns for the same config; only their order differs (`simulate`
    sorts them by time). `truth` is set once every chunk has been read.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, progress: Progress | None = None
    ) -> None:
        self.config = config or SimulatorConfig()
        self.progress = progress
        self.truth: pa.Table | None = None
        self.products: pa.Table | None = None

    def __iter__(self) -> Iterator[pa.Table]:
        config, progress = self.config, self.progress
        n = config.persons
        start = float(calendar.timegm(datetime.combine(config.start, time()).timetuple()))
        end = start + config.days * DAY

        # Person attributes are drawn for everyone at once; each person's journey then runs
        # on its own random stream, so adding persons never changes the ones already there.
        # One generator per attribute, so the first k draws do not depend on `persons`.
        def stream(attribute: int) -> np.random.Generator:
            return np.random.default_rng([config.seed, attribute])

        persona_names, persona_p = _weights(config.persona_shares)
        personas = stream(1).choice(len(persona_names), size=n, p=persona_p)
        country_names, country_p = _weights(config.country_shares)
        countries = stream(2).choice(len(country_names), size=n, p=country_p)
        consent_p = np.array([PERSONAS[name].consent for name in persona_names])[personas]
        consents = stream(3).random(n) < consent_p
        business = stream(4).random(n) < config.company_share
        first_visits = start + stream(5).random(n) * 0.85 * config.days * DAY
        family_email = stream(6).random(n) < config.family_email_share
        shared_device = stream(7).random(n) < config.shared_device_share

        catalogue = Catalogue(make_catalogue(random.Random(f"{config.seed}:catalogue")))
        self.products = catalogue_table(catalogue.products)
        voices = {lang: Voice(lang) for lang in set(LANGUAGE.values())}
        truth: dict[str, list[object]] = {
            "person": [],
            "user_id": [],
            "anonymous_ids": [],
            "persona": [],
            "country": [],
            "business": [],
        }
        visitors = round(n * config.visitors_per_person)
        out = Emitter(config.seed)
        previous: Customer | None = None
        for i in range(n):
            persona = persona_names[personas[i]]
            country = country_names[countries[i]]
            prng = random.Random(f"{config.seed}:{i}")
            who = make_customer(
                prng,
                index=i,
                seed=config.seed,
                persona=persona,
                country=country,
                consent=bool(consents[i]),
                business=bool(business[i]),
                today=config.start,
            )
            if previous is not None and previous.country == who.country:
                if family_email[i]:
                    who.email, who.last_name = previous.email, previous.last_name
                if shared_device[i]:
                    who.anonymous_ids[0] = previous.anonymous_ids[0]
            previous = who
            p = Person(
                rng=prng,
                out=out,
                who=who,
                persona=PERSONAS[persona],
                catalogue=catalogue,
                voice=voices[who.language],
                seed=config.seed,
                end=end,
                html_share=config.html_text_share,
                second_device_share=config.second_device_share,
            )
            out.begin_person(i)
            live(p, float(first_visits[i]))
            campaigns(p, start)
            truth["person"].append(i)
            truth["user_id"].append(who.user_id if p.identified else None)
            truth["anonymous_ids"].append(list(who.anonymous_ids))
            truth["persona"].append(persona)
            truth["country"].append(country)
            truth["business"].append(who.company is not None)
            if len(out) and ((i + 1) % CHUNK == 0 or i == n - 1):
                yield out.table()
                out = Emitter(config.seed)
            if progress is not None and ((i + 1) % 100 == 0 or i == n - 1):
                progress(i + 1, n + visitors)
        yield from _visitors(config, visitors, stream, out, truth, catalogue, voices, end, progress)
        self.truth = pa.table(
            {
                "person": pa.array(truth["person"], pa.int64()),
                "user_id": pa.array(truth["user_id"], pa.string()),
                "anonymous_ids": pa.array(truth["anonymous_ids"], pa.list_(pa.string())),
                "persona": pa.array(truth["persona"], pa.string()),
                "country": pa.array(truth["country"], pa.string()),
                "business": pa.array(truth["business"], pa.bool_()),
            }
        )


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
