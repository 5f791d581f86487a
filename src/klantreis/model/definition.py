"""Journey definitions: which phases a journey has and which events and touchpoints fall in each.

Shipped: `six-phase` (DESIGN.md, the default) and `aida`. A shop can point to its own YAML file
(same format) with `--definition path/to/file.yaml` or `[journey] definition` in klantreis.toml.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from klantreis.errors import KlantreisError

DEFAULT_DEFINITION = "six-phase"

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the pure-Python one takes a second
per definition file on a loaded machine, and every map and analysis reads one."""


class DefinitionError(KlantreisError):
    """A journey definition that cannot be read or does not make sense."""


class PhaseSpec(BaseModel):
    id: str
    label: dict[str, str] = Field(default_factory=dict)
    events: list[str] = Field(default_factory=list)


class TouchpointSpec(BaseModel):
    id: str
    label: dict[str, str] = Field(default_factory=dict)
    direct: bool = True
    events: list[str] = Field(default_factory=list)


class AboutAnOrder(BaseModel):
    """Contact events (a store visit, a call, a social mention) whose phase is what they are
    about: `phase` when the event names an order (`order_id`), or when its `topic`, `purpose`
    or `kind` is one of `topics` and the person has bought before; else the phase that
    lists the event. A complaint after an order is service, not orientation."""

    phase: str
    events: list[str] = Field(default_factory=list)
    """Exact event names."""
    topics: list[str] = Field(default_factory=list)


class JourneyDefinition(BaseModel):
    name: str
    label: dict[str, str] = Field(default_factory=dict)
    purchase_event: str = "Order Completed"
    default_phase: str
    phases: list[PhaseSpec]
    touchpoints: list[TouchpointSpec] = Field(default_factory=list)
    about_an_order: AboutAnOrder | None = None

    @model_validator(mode="after")
    def _check(self) -> JourneyDefinition:
        ids = [p.id for p in self.phases]
        if len(ids) < 2 or len(set(ids)) != len(ids):
            raise ValueError("phases need at least two distinct ids")
        if self.default_phase not in ids:
            raise ValueError(f"default_phase {self.default_phase!r} is not one of {ids}")
        if self.about_an_order and self.about_an_order.phase not in ids:
            raise ValueError(
                f"about_an_order.phase {self.about_an_order.phase!r} is not one of {ids}"
            )
        if self.purchase_phase is None:
            raise ValueError(f"no phase lists the purchase event {self.purchase_event!r}")
        return self

    @property
    def phase_ids(self) -> list[str]:
        return [p.id for p in self.phases]

    @property
    def purchase_phase(self) -> str | None:
        return self.phase_of(self.purchase_event, default=None)

    def phase_of(self, event: str, default: str | None = "") -> str | None:
        for phase in self.phases:
            if any(fnmatch.fnmatchcase(event, pattern) for pattern in phase.events):
                return phase.id
        return self.default_phase if default == "" else default

    def touchpoint_of(self, event: str) -> tuple[str, bool]:
        for touchpoint in self.touchpoints:
            if any(fnmatch.fnmatchcase(event, pattern) for pattern in touchpoint.events):
                return touchpoint.id, touchpoint.direct
        return "other", True

    def phase_label(self, phase: str, language: str = "en") -> str:
        for spec in self.phases:
            if spec.id == phase:
                return spec.label.get(language) or spec.label.get("en") or phase
        return phase


def builtin_definitions() -> list[str]:
    folder = resources.files("klantreis.model") / "definitions"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@lru_cache(maxsize=32)
def load_definition(name_or_path: str | None = None) -> JourneyDefinition:
    """A shipped definition by name (`six-phase`, `aida`) or a YAML file by path."""
    name = name_or_path or DEFAULT_DEFINITION
    if name in builtin_definitions():
        text = (resources.files("klantreis.model") / "definitions" / f"{name}.yaml").read_text(
            encoding="utf-8"
        )
        origin = name
    else:
        path = Path(name)
        if not path.exists():
            raise DefinitionError(
                f"journey definition {name!r} is neither a file nor one of "
                f"{', '.join(builtin_definitions())}"
            )
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    try:
        data = yaml.load(text, Loader=_SAFE)
        return JourneyDefinition.model_validate(data)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{origin}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise DefinitionError(f"{origin}: {where}: {err['msg']}") from exc
