"""Reading a mapping's YAML file and validating it, with errors that name the file and the key.

Event mappings (`imports/mapping.py`) and catalogue mappings (`catalogue/mapping.py`) are
different models read the same way, so the way a user learns what is wrong lives here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from klantreis.collect.imports.errors import MappingError

M = TypeVar("M", bound=BaseModel)


def read_yaml_object(path: Path, origin: str, shape: str) -> dict[str, Any]:
    """The YAML object in `path`; `shape` says what the file must hold when it is not one."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MappingError(f"{origin}: malformed YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: {shape}")
    return raw


def validate_mapping(model: type[M], raw: dict[str, Any], origin: str) -> M:
    """`raw` as `model`; the first problem is named by its key path (e.g. `events.0.name`)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "(top)"
        message = error["msg"].removeprefix("Value error, ")
        raise MappingError(f"{origin}: {key}: {message}") from None
