"""Export and erasure of one person across every stage's tables.

Tables are declared where they are owned (`store.schema.register_table` at import of the
owning module). This module imports the owning modules (the explicit list below) before the
store's privacy functions search every declared table, so the store never imports the stages
above it to find them. `tests/test_architecture.py` fails when a module that declares a
table is missing here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.store import privacy
from klantreis.store.schema import TABLES, TableSpec
from klantreis.store.store import Store

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store.lake_privacy import LakePlaces

TABLE_MODULES = (
    "klantreis.store.schema",
    "klantreis.store.store",
    "klantreis.collect.keys",
    "klantreis.collect.catalogue.table",
    "klantreis.model.identities",
    "klantreis.model.phases",
    "klantreis.model.orders",
    "klantreis.model.journey_events",
    "klantreis.model.sessions",
    "klantreis.model.sources",
    "klantreis.model.journeys",
    "klantreis.model.persons",
    "klantreis.model.refresh",
    "klantreis.measure.expectations.cases",
    "klantreis.measure.personas.tables",
    "klantreis.measure.voice.stored",
    "klantreis.measure.voice.training",
    "klantreis.measure.journey_map.stored",
    "klantreis.measure.value.table",
    "klantreis.act.audiences",
    "klantreis.act.review_requests",
    "klantreis.act.cases.table",
    "klantreis.present.api.routine",
    "klantreis.present.web.auth",
    "klantreis.present.web.page_results",
)
"""Every module that declares a table with `register_table` (or an erasure step)."""


def declared_tables() -> dict[str, TableSpec]:
    """Every declared table, by name."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return dict(TABLES)


def lake_places(settings: Settings | None) -> LakePlaces | None:
    """Where a shop on a lake (`[store] kind = "lake"`) keeps persons besides its state file:
    the lake, and the derived tables Spark writes (`[engine] tables_path`, wherever it is, and
    whichever engine runs this command). None for a shop on one DuckDB file."""
    from klantreis.config import StoreSettings
    from klantreis.store.lake_privacy import LakePlaces

    lake = settings.section(StoreSettings).lake if settings is not None else None
    if lake is None or settings is None:
        return None
    tables = settings.engine_options.get("tables_path")
    return LakePlaces(lake, Path(tables) if tables else None)


def _places_of(store: Store, settings: Settings | None) -> LakePlaces | None:
    """The lake places of these settings or, without settings (a call from Python), of the
    shop's own settings (klantreis.toml) when its state file is this store: an erasure asked of
    the state file alone would leave the person in the lake's files."""
    if settings is None:
        from klantreis.config import StoreSettings, load_settings

        own = load_settings(store.path)
        places = lake_places(own)
        state = Path(own.section(StoreSettings).state).resolve()
        return places if places is not None and state == store.path.resolve() else None
    return lake_places(settings)


def export_person(store: Store, person: str, settings: Settings | None = None) -> dict[str, Any]:
    """Everything stored about a person, table by table (`klantreis privacy export`); on a
    lake (these settings, or the shop's own when none are given) the lake's files and derived
    tables too."""
    declared_tables()
    places = _places_of(store, settings)
    if places is not None:
        from klantreis.store import lake_privacy

        return lake_privacy.export_person(store, places, person)
    return privacy.export_person(store, person)


def erase_person(store: Store, person: str, settings: Settings | None = None) -> dict[str, int]:
    """Remove a person from every table and the file itself (`klantreis privacy erase`)."""
    return erase_persons(store, [person], settings)


def erase_persons(
    store: Store, persons: list[str], settings: Settings | None = None
) -> dict[str, int]:
    """Remove persons from every table and the file itself, with one rewrite of the file; with
    the settings of a shop on a lake (or, when none are given, the shop's own settings), from
    the lake's files and derived tables too (store/lake_privacy.py)."""
    declared_tables()
    places = _places_of(store, settings)
    if places is not None:
        from klantreis.store import lake_privacy

        return lake_privacy.erase_persons(store, places, persons)
    _stitch_current(store, settings)
    return privacy.erase_persons(store, persons)


def _stitch_current(store: Store, settings: Settings | None) -> None:
    """Bring the model up to date before the ids are resolved: the person's other ids (an
    anonymous id, an e-mail) are found through the model's `identities`, so without a model, or
    with one older than the events, an erasure would miss the events of ids stitched to the
    person since (a refresh of the persons whose events changed; nothing when current)."""
    if not store.engine.has_table("events") or not store.engine.scalar(
        "SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)"
    ):
        return
    from klantreis.api import Klantreis
    from klantreis.config import load_settings
    from klantreis.model.build import ensure_built

    own = settings if settings is not None else load_settings(store.path)
    if own.engine != "duckdb":
        return  # another engine's model is not in this file; its identities are read as they are
    ensure_built(Klantreis.over(store, own))
