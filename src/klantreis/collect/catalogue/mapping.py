"""Which columns of a shop platform's product export say what the `products` table holds.

Platforms export products differently: Shopify writes one row per variant and per image with
the product's handle repeated, WooCommerce one row per product with its image URLs in one
comma-separated cell, Lightspeed one row per variant. A catalogue mapping (YAML, docs/mappings.md)
names per field of `products` the column(s) and how the product's rows are read:

- `first`: the first non-empty value (text);
- `number` / `integer`: the first non-empty value as a number (times `scale`);
- `text_length`: the length of the first non-empty text with HTML tags taken out;
- `count_distinct`: how many different non-empty values the product's rows hold (images);
- `count_items`: how many non-empty items the first non-empty value lists (`separator`);
- `count_filled`: how many of `columns` are filled in on any of the product's rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from klantreis.collect.imports.errors import MappingError
from klantreis.collect.imports.readers import FORMATS
from klantreis.collect.imports.yamlfile import read_yaml_object, validate_mapping

BUILTIN_DIR = Path(__file__).parent / "mappings"
FIELDS = (
    "name",
    "category",
    "price",
    "photos",
    "description_length",
    "name_length",
    "specifications",
    "weight_g",
    "length_cm",
    "height_cm",
    "width_cm",
)
"""The `products` columns a mapping may fill (besides `product_id`)."""
How = Literal[
    "first", "number", "integer", "text_length", "count_distinct", "count_items", "count_filled"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Strict):
    """Where one field of a product comes from."""

    column: str | None = None
    columns: list[str] | None = None
    how: How = "first"
    separator: str = ","
    scale: float = 1.0

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        if self.how == "count_filled":
            if not self.columns or self.column is not None:
                raise ValueError("`count_filled` counts `columns` (a list), not one `column`")
        elif self.column is None or self.columns is not None:
            raise ValueError(f"`{self.how}` reads one `column`")
        return self

    def sources(self) -> list[str]:
        return list(self.columns or []) if self.how == "count_filled" else [str(self.column)]


class CatalogueMapping(_Strict):
    """A product export's columns: `product_id` names the column rows are grouped by."""

    name: str
    format: str | None = None
    product_id: str
    fields: dict[str, FieldRule]
    keep_other_columns: bool = True
    """Keep the export's unmapped columns (first non-empty value) in `attributes`."""

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; one of {', '.join(FORMATS)}")
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        """`name: Title` is `name: {column: Title}`."""
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, FieldRule]) -> dict[str, FieldRule]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
        return value

    def columns(self) -> list[str]:
        """Every column the mapping reads, in mapping order."""
        names = [self.product_id]
        for rule in self.fields.values():
            names += [c for c in rule.sources() if c not in names]
        return names


def builtin_catalogue_mappings() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def load_catalogue_mapping(spec: str | Path | dict[str, object]) -> tuple[CatalogueMapping, str]:
    """A catalogue mapping and where it came from: a YAML file, a built-in name or a dict."""
    if isinstance(spec, dict):
        return _validate(spec, "mapping"), "mapping"
    path = Path(spec)
    origin = str(path)
    if not path.exists() and path.suffix == "" and (BUILTIN_DIR / f"{path.name}.yaml").exists():
        path = BUILTIN_DIR / f"{path.name}.yaml"
        origin = f"built-in catalogue mapping {spec}"
    if not path.exists():
        known = ", ".join(builtin_catalogue_mappings())
        raise MappingError(f"{path}: no such mapping file (built-in catalogue mappings: {known})")
    raw = read_yaml_object(path, origin, "a catalogue mapping must be a YAML object")
    return _validate(raw, origin), origin


def _validate(raw: dict[str, object], origin: str) -> CatalogueMapping:
    return validate_mapping(CatalogueMapping, dict(raw), origin)
