"""The results of the dashboard's default pages, computed by the server's routine and stored.

A page's analyses take seconds at 1M events and minutes at 10M (the voice page joins every
text with the journey events, the expectations page compares breached customers' outcomes),
and a server's in-memory cache is empty after every start. So the routine runs the analyses
of the default pages (all time, every persona) after the results they rest on, and stores each
one here under the analysis's name and parameters, with the `results_fingerprint` it was
computed at. A page then reads them, a few rows of a small table, and says when they were
computed and whether the routine has stored newer results since (`stale`): it never computes
them while a visitor waits.

Values are stored in their declared result type (`measure/registry.py`): a `Result` as its
Arrow table (IPC, every type kept), a summary (`AnalysisResult`, or a dataclass such as the
scorecard) as pydantic's JSON of that type, read back into the same type. A result whose
type pydantic cannot describe (one holding Arrow tables, like the funnel's) is not stored;
its page computes it in the background as before. Only successful runs are stored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, is_dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import BaseModel, TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError

from klantreis.measure.registry import get_spec
from klantreis.measure.result import Result
from klantreis.store.privacy import register_erasure_step, stored_results_step
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.store import Store

log = logging.getLogger(__name__)

PAGE_RESULTS_TABLE = TableSpec(
    "page_results",
    """CREATE TABLE IF NOT EXISTS page_results (
    analysis VARCHAR,
    params VARCHAR,
    fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    encoding VARCHAR,
    value BLOB,
    PRIMARY KEY (analysis, params)
)""",
)
"""One analysis result a default page shows. The voice page's quotes are customer text, and
every figure counts persons: an erasure removes every row (`_forget`), and the routine
computes them again without the person."""


@dataclass(frozen=True)
class StoredResult:
    value: Any
    fingerprint: str
    computed_at: datetime
    seconds: float


def params_key(params: dict[str, Any]) -> str:
    """The parameters as one canonical text (sorted keys), the row's key with the name."""
    return json.dumps(params, sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode(name: str, value: Any) -> tuple[str, bytes] | None:
    """(encoding, bytes) of a result in its declared type; None when it cannot be stored."""
    if isinstance(value, Result):
        table = value.table.replace_schema_metadata(
            {**(value.table.schema.metadata or {}), b"klantreis.meta": _json(value.meta)}
        )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return "arrow", sink.getvalue().to_pybytes()
    spec = get_spec(name)
    kind = spec.result if spec is not None else None
    if kind is None or not isinstance(value, kind):
        return None
    if not (isinstance(value, BaseModel) or is_dataclass(value)):
        return None
    try:
        # python mode, then the standard library's JSON: NaN stays NaN (pydantic's JSON
        # would write null), datetimes become ISO text that validation reads back
        data = TypeAdapter[Any](kind).dump_python(value, mode="python")
    except PydanticSchemaGenerationError:
        return None  # e.g. a result holding Arrow tables: computed by its page instead
    return "json", _json(data)


def _json(data: Any) -> bytes:
    return json.dumps(data, default=_plain).encode()


def decode(name: str, encoding: str, data: bytes) -> Any:
    if encoding == "arrow":
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        metadata = dict(table.schema.metadata or {})
        meta = json.loads(metadata.pop(b"klantreis.meta", b"{}"))
        return Result(table.replace_schema_metadata(metadata or None), meta)
    spec = get_spec(name)
    if spec is None or spec.result is None:
        raise ValueError(f"no result type for the stored {name!r}")
    return TypeAdapter[Any](spec.result).validate_python(json.loads(data))


def read(store: Store, name: str, params: dict[str, Any]) -> StoredResult | None:
    """The stored result of `name` with `params`, current or not (None: none stored)."""
    if not store.engine.has_table(PAGE_RESULTS_TABLE.name):
        return None
    rows = store.connection.execute(
        "SELECT encoding, value, fingerprint, computed_at, seconds FROM page_results "
        "WHERE analysis = ? AND params = ?",
        [name, params_key(params)],
    ).fetchall()
    if not rows:
        return None
    encoding, data, fingerprint, computed_at, seconds = rows[0]
    try:
        value = decode(name, encoding, data)
    except Exception:  # stored by another version of the code: computed again
        log.warning("the stored %s could not be read; it is computed again", name, exc_info=True)
        return None
    return StoredResult(value, fingerprint, computed_at, seconds)


def write(
    store: Store, name: str, params: dict[str, Any], value: Any, fingerprint: str, seconds: float
) -> bool:
    """Store one result (replacing the previous one); False when its type cannot be."""
    encoded = encode(name, value)
    if encoded is None:
        return False
    store.register_table(PAGE_RESULTS_TABLE)
    with store.write_lock:
        store.connection.execute(
            "INSERT OR REPLACE INTO page_results VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?)",
            [name, params_key(params), fingerprint, seconds, *encoded],
        ).fetchall()
    return True


register_erasure_step(stored_results_step(PAGE_RESULTS_TABLE.name))
