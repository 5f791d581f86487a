"""Helpers of the import tests: where the example mappings are, and what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

from klantreis.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "mappings"


def events(store: Store, name: str | None = None) -> list[dict]:
    """Stored events (properties decoded), in message id order."""
    rows = store.connection.execute(
        "SELECT * FROM events WHERE $name IS NULL OR event = $name ORDER BY message_id",
        {"name": name},
    ).fetchall()
    columns = [d[0] for d in store.connection.description]
    out = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        record["properties"] = json.loads(record["properties"] or "null")
        out.append(record)
    return out


def quarantine(store: Store) -> list[dict]:
    rows = store.connection.execute("SELECT * FROM quarantine ORDER BY file, line").fetchall()
    columns = [d[0] for d in store.connection.description]
    return [dict(zip(columns, row, strict=True)) for row in rows]
