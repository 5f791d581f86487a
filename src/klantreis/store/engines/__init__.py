"""Engines that run klantreis queries, found by name in a registry.

Every engine is a folder with the same file roles:

    factory.py        FACTORY: the declared capabilities and how to open the engine (heavy
                      clients imported lazily, so listing engines costs nothing)
    configuration.py  its `[engine]` settings in klantreis.toml, unknown ones refused
    dialect.py        what differs from the DuckDB-dialect trees the queries are written in
    engine.py         the `Engine` (base.py): query trees in, Arrow tables out

`[engine] name` in klantreis.toml (or KLANTREIS_ENGINE) picks one; `register_engine` adds one
from outside the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from klantreis.store.engines.base import Capabilities, EngineFactory

if TYPE_CHECKING:
    from klantreis.config import Settings
    from klantreis.store import Store
    from klantreis.store.engines.base import Engine

BUILT_IN = ("duckdb", "spark")
_registry: dict[str, EngineFactory] = {}


def register_engine(factory: EngineFactory) -> None:
    """Make an engine available under `factory.capabilities.name`."""
    _registry[factory.capabilities.name] = factory


def engines() -> dict[str, EngineFactory]:
    """Every known engine by name (the built-in ones first)."""
    for name in BUILT_IN:
        if name not in _registry:
            module = importlib.import_module(f"{__name__}.{name}.factory")
            register_engine(module.FACTORY)
    return dict(_registry)


def capabilities(name: str) -> Capabilities:
    return _factory(name).capabilities


def open_engine(settings: Settings, store: Store) -> Engine:
    """The engine named in the settings (DuckDB runs on the store's own file)."""
    return _factory(settings.engine).open(settings, store)


def _factory(name: str) -> EngineFactory:
    known = engines()
    if name not in known:
        from klantreis.config import ConfigError

        raise ConfigError(
            f"unknown engine {name!r}; known: {', '.join(known)}", field="engine.name"
        )
    return known[name]


__all__ = ["capabilities", "engines", "open_engine", "register_engine"]
