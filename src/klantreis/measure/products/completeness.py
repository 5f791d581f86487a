"""The completeness score of a product page, from rules in YAML (`completeness.yaml`).

A score, not a model: the rules say what a full product page is (a number of photos, a
description of some length, specifications filled in) so a shop owner can read why a page
scores 55 and what would make it 100. Which of those parts matters for reviews, returns and
conversion is measured separately (`measure/products/analysis.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from klantreis.errors import KlantreisError

DEFAULT_RULES = Path(__file__).with_name("completeness.yaml")
PARTS = ("photos", "description_length", "specifications")


class RulesError(KlantreisError):
    """A completeness rules file that cannot be used (names the file and key)."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: float = Field(gt=0, description="points this part is worth")
    full: float = Field(gt=0, description="the value that earns all of them")


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: dict[str, Part]

    def check(self, origin: str) -> Rules:
        unknown = sorted(set(self.parts) - set(PARTS))
        if unknown:
            raise RulesError(
                f"unknown part {unknown[0]!r}; the parts are {', '.join(PARTS)}",
                field="rules",
                label=f"{origin}: parts",
            )
        if not self.parts:
            raise RulesError("name at least one part", field="rules", label=f"{origin}: parts")
        return self


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules in `path`, or the defaults."""
    file = Path(path) if path is not None else DEFAULT_RULES
    if not file.exists():
        raise RulesError(f"{file}: no such rules file", field="rules")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        rules = Rules.model_validate(raw)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise RulesError(f"not valid YAML: {problem}", field="rules", label=str(file)) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "(top)"
        raise RulesError(error["msg"], field="rules", label=f"{file}: {key}") from None
    return rules.check(str(file))


def score(products: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per product: each part's share of full (0..1, NULL as 0) and the score 0..100.

    Parts that no product has a value for are left out (`used` in the frame's attrs).
    """
    out = pd.DataFrame(index=products.index)
    used = [
        name for name in rules.parts if name in products.columns and products[name].notna().any()
    ]
    total = sum(rules.parts[name].weight for name in used)
    points = np.zeros(len(products))
    for name in used:
        part = rules.parts[name]
        value = pd.to_numeric(products[name], errors="coerce").astype(float)
        share = np.clip(value.fillna(0.0).to_numpy() / part.full, 0.0, 1.0)
        out[f"{name}_share"] = share
        points += share * part.weight
    out["score"] = np.round(points * 100.0 / total, 1) if total else np.nan
    out.attrs["used"] = used
    return out
