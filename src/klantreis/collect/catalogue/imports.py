"""`klantreis import products`: a shop platform's product export into the `products` table.

The export's rows are grouped by the mapping's product id column (Shopify repeats a product's
handle on every variant and image row); each field is read as the mapping says
(`collect/catalogue/mapping.py`). A row without a product id, or a number that is not one, is
quarantined with its file, line and column; the rest of the product is kept.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from klantreis.collect.catalogue.mapping import (
    CatalogueMapping,
    FieldRule,
    load_catalogue_mapping,
)
from klantreis.collect.catalogue.table import store_products
from klantreis.collect.imports.errors import MappingError
from klantreis.collect.imports.quarantine import SCHEMA as QUARANTINE_SCHEMA
from klantreis.collect.imports.quarantine import QuarantineBuffer
from klantreis.collect.imports.readers import LINE_COLUMN, Source
from klantreis.collect.imports.summary import ImportSummary, Progress
from klantreis.store import Store
from klantreis.store.store import utcnow

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def import_catalogue(
    store: Store,
    file: str | Path,
    mapping: str | Path | dict[str, Any],
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read a product export with a catalogue mapping and store its products."""
    started = time.perf_counter()
    spec, origin = load_catalogue_mapping(mapping)
    source_name = f"import:catalogue:{spec.name}"
    summary = ImportSummary(source=source_name)
    source = Source.open(file, spec.format)
    missing = [c for c in spec.columns() if c not in source.columns]
    if missing:
        raise MappingError(f"{origin}: column {missing[0]!r} is not in {source.path}")
    table = source.read_all()
    where = str(source.path.resolve())
    summary.files.append(str(source.path))
    summary.rows_read = table.num_rows
    if progress:
        progress(table.num_rows, f"read {source.path.name}")
    rejects = QuarantineBuffer(source=source_name)
    rejected = {where: source.rejected()}
    rejects.add_rejected(rejected[where], file=where)
    rows = _cells(table)
    bad: list[dict[str, Any]] = []
    products = read_products(rows, spec, bad)
    rejects.add(_quarantine(bad, where, source_name))
    summary.products = store_products(store, products, source=source_name)
    rejects.write(store, summary, rejected)
    summary.seconds = time.perf_counter() - started
    return summary


def _cells(table: pa.Table) -> pd.DataFrame:
    """Every cell as stripped text, empty cells as missing (exports write "" for nothing)."""
    frame = table.to_pandas()
    for column in frame.columns:
        if column != LINE_COLUMN:
            text = frame[column].astype("string").str.strip()
            frame[column] = text.mask(text == "")
    return frame


def read_products(
    rows: pd.DataFrame, spec: CatalogueMapping, bad: list[dict[str, Any]]
) -> pa.Table:
    """One row per product id, in the order of first appearance; problems go to `bad`."""
    key = spec.product_id
    for line in rows.loc[rows[key].isna(), LINE_COLUMN]:
        bad.append({"line": int(line), "column": key, "reason": f"missing {key}", "raw": None})
    rows = rows[rows[key].notna()]
    groups = rows.groupby(key, sort=False)
    out = pd.DataFrame(index=pd.Index(groups.size().index, name="product_id"))
    for field, rule in spec.fields.items():
        out[field] = _field(rows, rows[key], rule, bad)
    if spec.keep_other_columns:
        used = set(spec.columns()) | {LINE_COLUMN}
        rest = [c for c in rows.columns if c not in used]
        firsts = groups[rest].first() if rest else pd.DataFrame(index=out.index)
        out["attributes"] = (
            [
                json.dumps({k: v for k, v in row.items() if pd.notna(v)}, ensure_ascii=False)
                for row in firsts.to_dict("records")
            ]
            if rest
            else None
        )
    out = out.reset_index()
    return pa.Table.from_pandas(out, preserve_index=False)


def _field(
    rows: pd.DataFrame, key: pd.Series, rule: FieldRule, bad: list[dict[str, Any]]
) -> pd.Series:
    groups = rows.groupby(key, sort=False)
    if rule.how == "count_filled":
        return groups[rule.sources()].count().gt(0).sum(axis=1).astype("Int64")
    column = str(rule.column)
    values = rows[column]
    if rule.how in ("number", "integer"):
        numbers = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")
        shaped = values.str.match(_NUMBER).fillna(False).astype(bool)
        wrong = values.notna() & (~shaped | numbers.isna())
        for line, value in zip(rows.loc[wrong, LINE_COLUMN], values[wrong], strict=True):
            bad.append(
                {
                    "line": int(line),
                    "column": column,
                    "reason": f"not a number: {json.dumps(str(value)[:60], ensure_ascii=False)}",
                    "raw": str(value),
                }
            )
        numbers = numbers.where(~wrong) * rule.scale
        first = numbers.groupby(key, sort=False).first()
        return first.round().astype("Int64") if rule.how == "integer" else first
    if rule.how == "count_distinct":
        return groups[column].nunique().astype("Int64")
    first = groups[column].first()
    if rule.how == "text_length":
        return first.map(_text_length, na_action="ignore").astype("Int64")
    if rule.how == "count_items":
        return first.map(
            lambda v: sum(1 for item in str(v).split(rule.separator) if item.strip()),
            na_action="ignore",
        ).astype("Int64")
    return first


def _text_length(value: str) -> int:
    """Characters a reader sees: tags out, entities decoded, runs of white space as one."""
    return len(_SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip())


def _quarantine(bad: list[dict[str, Any]], file: str, source: str) -> pa.Table:
    now = utcnow()
    records = []
    for row in bad:
        key = f"{source}|{file}|{row['line']}|{row['column']}"
        records.append(
            {
                "quarantine_id": hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
                "received_at": now,
                "source": source,
                "file": file,
                "line": row["line"],
                "column_name": row["column"],
                "reason": row["reason"],
                "raw": row["raw"],
                "message_id": None,
                "user_id": None,
                "anonymous_id": None,
            }
        )
    return pa.Table.from_pylist(records, schema=QUARANTINE_SCHEMA)
