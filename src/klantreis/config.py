"""Where the store is and which engine runs the queries.

Precedence: an explicit argument (`--store`), then `KLANTREIS_STORE`, then `klantreis.toml` in
the working directory (or the file named by `KLANTREIS_CONFIG`), then `./klantreis.duckdb`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klantreis.errors import KlantreisError

DEFAULT_STORE = "klantreis.duckdb"


class ConfigError(KlantreisError):
    """klantreis.toml is unreadable or names an unknown setting value."""


@dataclass(frozen=True)
class Settings:
    store: Path
    engine: str = "duckdb"
    engine_options: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    """Every section of klantreis.toml, for modules with settings of their own (alerts, smtp)."""


def config_path() -> Path:
    return Path(os.environ.get("KLANTREIS_CONFIG", "klantreis.toml"))


def read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_settings(store: str | os.PathLike[str] | None = None) -> Settings:
    """Settings for this process, from arguments, environment and klantreis.toml."""
    data = read_toml(config_path())
    store_section = data.get("store", {})
    engine_section = dict(data.get("engine", {}))
    path = store or os.environ.get("KLANTREIS_STORE") or store_section.get("path") or DEFAULT_STORE
    engine = str(os.environ.get("KLANTREIS_ENGINE") or engine_section.pop("name", "duckdb"))
    from klantreis.store.engines import engines  # the registry; light, no engine client

    if engine not in engines():
        raise ConfigError(
            f"{config_path()}: [engine] name = {engine!r}; use one of {', '.join(engines())}",
            field="engine.name",
        )
    return Settings(Path(path), engine, engine_section, data)
