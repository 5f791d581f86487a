"""Build the model from stored events: identities, persons, sessions, journeys and phases.

Each derived table is declared and queried in its own module (`identities`, `phases`,
`orders`, `journey_events`, `sessions`, `journeys`, `persons`; see docs/architecture.md);
this module runs them in order, as a full build or as a refresh of the persons whose events changed
(`model/refresh.py`), by whichever engine is configured.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from klantreis.config import SectionSettings
from klantreis.model.as_built import reading_as_built
from klantreis.model.contract import shaped
from klantreis.model.definition import JourneyDefinition, load_definition
from klantreis.model.identities import build_identities
from klantreis.model.journey_events import journey_events_query
from klantreis.model.journeys import journeys_query
from klantreis.model.orders import build_order_channels
from klantreis.model.persons import persons_query
from klantreis.model.phases import build_phase_map, phase_map_query
from klantreis.model.refresh import NOBODY, REFRESHED_PERSONS, Watermark, refresh
from klantreis.model.sessions import sessions_query
from klantreis.model.sources import SourceRules, SourcesSettings, load_rules, session_sources_query
from klantreis.store.engines.base import Engine

if TYPE_CHECKING:
    from klantreis.model.context import Context

__all__ = ["ModelSummary", "build", "ensure_built", "phase_map_query"]

SESSION_GAP_MINUTES = 30
MODEL_VERSION = "6"
"""Bumped when the model's meaning changes (2: identity stitching with caps and placeholders;
3: back-office events on their order's channel; 4: identity aggregates kept for refreshes; 5: the
quiet that ends a session measured in microseconds; 6: `session_sources`, contact events by what
they are about), so stores built by older code are rebuilt."""


@dataclass
class ModelSummary:
    persons: int
    journeys: int
    sessions: int
    events: int
    identity_rounds: int
    definition: str
    refreshed_persons: int | None = None
    """Persons rebuilt by a refresh; None after a full build."""


def summarise(engine: Engine, rounds: int, definition: str) -> ModelSummary:
    counts = engine.fetch(
        "SELECT (SELECT count(*) FROM persons) AS persons, "
        "(SELECT count(*) FROM journeys) AS journeys, "
        "(SELECT count(*) FROM sessions) AS sessions, "
        "(SELECT count(*) FROM journey_events) AS events"
    ).to_pylist()[0]
    return ModelSummary(identity_rounds=rounds, definition=definition, **counts)


def build(
    engine: Engine,
    definition: JourneyDefinition | str | None = None,
    *,
    session_gap_minutes: int = SESSION_GAP_MINUTES,
    progress: Callable[[str], None] | None = None,
    source_rules: SourceRules | None = None,
) -> ModelSummary:
    """(Re)build every derived table of the model from `events`."""
    if not isinstance(definition, JourneyDefinition):
        definition = load_definition(definition)
    say = progress or (lambda _msg: None)
    say("stitching identities")
    rounds = build_identities(engine, progress)
    say("mapping events to phases and touchpoints")
    build_phase_map(engine, definition)
    say("assigning sessions and journeys")
    build_order_channels(engine, definition)
    engine.create_table_as(
        "journey_events",
        journey_events_query(
            definition,
            session_gap_minutes=session_gap_minutes,
            row_ids=engine.capabilities.row_ids,
        ),
    )
    engine.create_table_as("sessions", sessions_query())
    engine.create_table_as("session_sources", session_sources_query(source_rules))
    engine.create_table_as("journeys", journeys_query(definition))
    say("describing persons")
    engine.create_table_as("persons", persons_query(definition))
    return summarise(engine, rounds, definition.name)


_build_lock = threading.Lock()


def ensure_built(
    kr: Context,
    definition: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Bring the model up to date when events, the definition or the model code changed.

    Returns whether it changed anything. The state is kept in the store's `meta` table (DuckDB)
    or on the engine object (read-only engines such as Spark), so repeated calls are cheap.
    On a writable store with the same definition and model code, only the persons whose events
    changed are rebuilt (`model/refresh.py`); otherwise every table is built again.
    """
    definition = definition or model_definition(kr)
    resolved = load_definition(definition)
    if reading_as_built() and _built_in(kr, resolved.name):
        return False  # a page: the routine refreshes it, without the page waiting for it
    rules = load_rules(kr.settings.section(SourcesSettings).rules)
    # Not the store's write lock: the build only reads `events` (a snapshot) and replaces
    # derived tables, so the collector keeps committing while a model is built beside it.
    with _build_lock:
        basis = "|".join(
            (
                MODEL_VERSION,
                resolved.model_dump_json(),
                str(SESSION_GAP_MINUTES),
                rules.model_dump_json(),
            )
        )
        engine = kr.engine
        events = engine.events_fingerprint() or kr.store.events_fingerprint()
        fingerprint = "|".join((basis, events))
        if engine.capabilities.writable:
            built = kr.store.get_meta("model_fingerprint")
        else:
            built = engine.get_state("model_fingerprint")
        if built == fingerprint and engine.has_table("journey_events"):
            return False
        if not engine.capabilities.writable:
            build(engine, resolved, progress=progress, source_rules=rules)
            engine.set_state("model_fingerprint", fingerprint)
            return True
        store = kr.store
        with store.transaction():  # the whole model or the previous one, never half
            watermark = Watermark.of(engine)
            since = Watermark.parse(store.get_meta("model_watermark"))
            refreshed = None
            if built and since and store.get_meta("model_basis") == basis:
                refreshed = refresh(
                    engine,
                    resolved,
                    since,
                    session_gap_minutes=SESSION_GAP_MINUTES,
                    progress=progress,
                    source_rules=rules,
                )
            if refreshed is None:
                build(engine, resolved, progress=progress, source_rules=rules)
                engine.create_table_as("refreshed_persons", shaped(REFRESHED_PERSONS, NOBODY))
            store.set_meta("model_refreshed_from", (built or "") if refreshed is not None else "")
            store.set_meta("model_fingerprint", fingerprint)
            store.set_meta("model_watermark", str(watermark))
            store.set_meta("model_basis", basis)
            store.set_meta("model_definition", resolved.name)
        return True


def _built_in(kr: Context, definition: str) -> bool:
    """Whether a model in `definition` exists (current or not)."""
    engine = kr.engine
    if not engine.capabilities.writable:
        return bool(engine.get_state("model_fingerprint"))
    built = kr.store.get_meta("model_definition") == definition
    return built and engine.has_table("journey_events")


class JourneySettings(SectionSettings):
    """`[journey] definition`: a built-in definition's name or a definition file."""

    SECTION: ClassVar[str] = "journey"
    definition: str = "six-phase"


_IN_USE: ContextVar[tuple[str, str] | None] = ContextVar("journey_definition_in_use", default=None)


@contextmanager
def definition_in_use(definition: str, *, model: str | None = None) -> Iterator[None]:
    """Within this block, analyses read the model in `definition` instead of the configured one.

    A journey map in another definition than the configured one calls other analyses (pain
    points, emotion, opportunities); without this each would rebuild the model in the
    configured definition under the map's feet, and their phases would not be the map's.
    `model`: the definition the model's tables are built in, when the map reads them in
    `definition` through `model/translate.py` (default: `definition` itself).
    """
    token = _IN_USE.set((definition, model or definition))
    try:
        yield
    finally:
        _IN_USE.reset(token)


def configured_definition(kr: Context) -> str:
    """The definition in use for this call (see `definition_in_use`), else the configured one."""
    in_use = _IN_USE.get()
    if in_use:
        return in_use[0]
    return kr.settings.section(JourneySettings).definition


def model_definition(kr: Context) -> str:
    """The definition the model's tables are built in for this call: that of
    `definition_in_use(..., model=...)`, else the one in use, else the configured one. What
    `ensure_built` builds and the expectation cases are judged in."""
    in_use = _IN_USE.get()
    if in_use:
        return in_use[1]
    return kr.settings.section(JourneySettings).definition


def model_definition_for(kr: Context, wanted: str) -> str:
    """The definition to keep the model in when `wanted` is asked: the configured one when
    `wanted` can be read from it (`model/translate.py`), so switching definitions is a read
    and never replaces the configured model (on Spark too, where a second build costs as much
    as the first and would replace the model in the lake); else `wanted` itself (a full
    build)."""
    home = kr.settings.section(JourneySettings).definition
    from klantreis.model.translate import translatable

    return home if translatable(load_definition(home), load_definition(wanted)) else wanted
