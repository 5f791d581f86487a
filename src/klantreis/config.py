"""Where the store is and which engine runs the queries.

Precedence: an explicit argument (`--store`), then `KLANTREIS_STORE`, then `klantreis.toml` in
the working directory (or the file named by `KLANTREIS_CONFIG`), then `./klantreis.duckdb`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from klantreis.errors import KlantreisError

DEFAULT_STORE = "klantreis.duckdb"

SECTIONS = frozenset(
    {
        "alerts",
        "at_risk",
        "cases",
        "collector",
        "engine",
        "expectations",
        "journey",
        "personas",
        "routine",
        "smtp",
        "sources",
        "store",
        "web",
    }
)
"""Every top-level section klantreis.toml may hold: the `SECTION` of each settings model (kept
here so that reading the file imports no module; `tests/test_settings.py` checks the two
agree) and `[[alerts]]`. Any other is refused, so a misspelt `[colector]` is not silently
ignored while the collector runs on its defaults."""


class ConfigError(KlantreisError):
    """klantreis.toml is unreadable or names an unknown setting value."""


class SectionSettings(BaseModel):
    """A typed section of klantreis.toml: unknown keys refused, values checked and converted.

    Each section is one model, declared by the module that owns it (`[smtp]` in
    `act/notify/smtp.py`, `[at_risk]` in `measure/expectations/at_risk.py`, ...) and read with
    `settings.section(Model)`; a bad value is a `ConfigError` naming `[section] key`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    SECTION: ClassVar[str]
    ERROR: ClassVar[type[ConfigError]] = ConfigError
    """Raised for a bad value; a section may name its own subclass of ConfigError."""


S = TypeVar("S", bound=SectionSettings)


@dataclass(frozen=True)
class Settings:
    store: Path
    engine: str = "duckdb"
    engine_options: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    """Every section of klantreis.toml, for modules with settings of their own (alerts, smtp)."""

    def section(self, model: type[S]) -> S:
        """The `[model.SECTION]` section, typed; defaults when klantreis.toml has none."""
        return parse_section(model, self.sections.get(model.SECTION))

    def has_section(self, name: str) -> bool:
        return bool(self.sections.get(name))


def parse_section(model: type[S], raw: Any) -> S:
    """`raw` (a section's table) as `model`; `ConfigError` naming the first bad key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            "expected a table of settings",
            field=model.SECTION,
            label=f"{config_path()} [{model.SECTION}]",
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or model.SECTION
        where = f"{config_path()} [{model.SECTION}]"
        if error["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields) or "none"
            raise model.ERROR(
                f"unknown setting {key!r} (known: {known})",
                field=f"{model.SECTION}.{key}",
                label=where,
            ) from None
        reason = explain(model, error)
        raise model.ERROR(reason, field=f"{model.SECTION}.{key}", label=f"{where} {key}") from None


def explain(model: type[BaseModel], error: Any) -> str:
    """A pydantic error in words: the field's description (what it wants) and the value given,
    else pydantic's own message without its `Value error, ` prefix."""
    described = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    if described is not None and described.description and error["type"] != "value_error":
        return f"{described.description}, not {error['input']!r}"
    return str(error["msg"]).removeprefix("Value error, ")


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


class StoreSettings(SectionSettings):
    """`[store]`: where events are kept.

        [store]
        kind = "lake"                 # "duckdb" (default): one file; "lake": Parquet files
        path = "lake/"                # the DuckDB file, or the lake folder
        state = "klantreis.duckdb"    # lake only: the file of keys, users and settings

    A lake takes events from several collector processes side by side (docs/scale-out.md);
    everything that is not an event (keys, users, the dashboard's state) stays in `state`.
    """

    SECTION: ClassVar[str] = "store"
    kind: Annotated[Literal["duckdb", "lake"], Field(description='"duckdb" or "lake"')] = "duckdb"
    path: Annotated[str | None, Field(description="a file or folder path")] = None
    state: Annotated[str, Field(description="a DuckDB file path")] = DEFAULT_STORE

    @property
    def lake(self) -> Path | None:
        """The lake folder when events go to a lake, else None."""
        if self.kind != "lake":
            return None
        return Path(self.path or "lake")


def load_settings(store: str | os.PathLike[str] | None = None) -> Settings:
    """Settings for this process, from arguments, environment and klantreis.toml."""
    data = read_toml(config_path())
    _refuse_unknown_sections(data)
    store_section = parse_section(StoreSettings, data.get("store"))
    engine_section = dict(data.get("engine", {}))
    home = store_section.state if store_section.lake else store_section.path
    path = store or os.environ.get("KLANTREIS_STORE") or home or DEFAULT_STORE
    engine = str(os.environ.get("KLANTREIS_ENGINE") or engine_section.pop("name", "duckdb"))
    from klantreis.store.engines import engines  # the registry; light, no engine client

    if engine not in engines():
        raise ConfigError(
            f"[engine] name = {engine!r}; use one of {', '.join(engines())}",
            field="engine.name",
            label=str(config_path()),
        )
    return Settings(Path(path), engine, engine_section, data)


def _refuse_unknown_sections(data: dict[str, Any]) -> None:
    import difflib

    for name in data:
        if name in SECTIONS:
            continue
        close = difflib.get_close_matches(name, sorted(SECTIONS), n=1)
        hint = f"; did you mean [{close[0]}]?" if close else ""
        raise ConfigError(
            f"unknown section [{name}]{hint} (known: {', '.join(sorted(SECTIONS))})",
            field=name,
            label=str(config_path()),
        )
