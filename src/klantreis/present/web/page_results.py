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
scorecard) as pydantic's JSON of that type, read back into the same type; a dataclass that
holds Arrow tables (the funnel's, the paths') as one Arrow row: each table a binary column of
its own IPC stream, the other fields as pydantic's JSON of their types (a callable field, the
funnel's drop-offs query, is not stored: the stored one says so when called). A value no
analysis declares (the funnels page's event names, the timeline's suggested persons) is stored
as plain JSON. A run that failed
is stored as its message (`Failure`). `computed_at` is UTC, whatever the server's time zone.
"""

from __future__ import annotations

import collections.abc
import functools
import json
import logging
import typing
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime
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
class Failure:
    """An analysis the routine ran and that failed (at 10M under a small cap: out of
    memory), with the message a page shows: the page says so at once instead of computing
    it again while a visitor waits; the routine's next run tries it again."""

    message: str


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
    # tagged, so a time in an untyped field (a map's `totals`) reads back as a time, not text
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON")


def _times(item: dict[str, Any]) -> Any:
    if len(item) == 1 and "__datetime__" in item:
        return datetime.fromisoformat(item["__datetime__"])
    if len(item) == 1 and "__date__" in item:
        return date.fromisoformat(item["__date__"])
    return item


def _loads(data: bytes | str) -> Any:
    return json.loads(data, object_hook=_times)


def encode(name: str, value: Any) -> tuple[str, bytes] | None:
    """(encoding, bytes) of a result in its declared type; None when it cannot be stored."""
    if isinstance(value, Failure):
        return "failed", value.message.encode()
    if isinstance(value, Result):
        table = value.table.replace_schema_metadata(
            {**(value.table.schema.metadata or {}), b"klantreis.meta": _json(value.meta)}
        )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return "arrow", sink.getvalue().to_pybytes()
    spec = get_spec(name)
    if spec is None and _plain_json(value):
        return "plain", _json(value)
    kind = spec.result if spec is not None else None
    if kind is None or not isinstance(value, kind):
        return None
    if not (isinstance(value, BaseModel) or is_dataclass(value)):
        return None
    if is_dataclass(value) and any(
        isinstance(getattr(value, f.name), pa.Table) for f in fields(value)
    ):
        return "tables", _tables(value)
    try:
        # python mode, then the standard library's JSON: NaN stays NaN (pydantic's JSON
        # would write null), datetimes become ISO text that validation reads back
        data = _adapter(kind).dump_python(value, mode="python")
    except PydanticSchemaGenerationError:
        return None  # e.g. a result holding Arrow tables: computed by its page instead
    return "json", _json(data)


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    """One adapter per type: building one takes milliseconds (a map's: tens of them)."""
    return TypeAdapter(kind)


_PLAIN = str | int | float | datetime | date | None
"""A plain value: JSON's, or a time (tagged, `_plain`)."""


def _plain_json(value: Any) -> bool:
    """A list of plain values, or of rows of them (the timeline's suggested persons)."""
    return isinstance(value, list) and all(
        isinstance(v, _PLAIN)
        or (isinstance(v, dict) and all(isinstance(f, _PLAIN) for f in v.values()))
        for v in value
    )


def _not_stored(*_: Any, **__: Any) -> Any:
    raise LookupError("not stored with the result: run the analysis for it")


def _tables(value: Any) -> bytes:
    """A dataclass holding Arrow tables as one Arrow row (see the module's docstring)."""
    hints = typing.get_type_hints(type(value))
    columns: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    for item in fields(value):
        field_value = getattr(value, item.name)
        if isinstance(field_value, pa.Table):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, field_value.schema) as writer:
                writer.write_table(field_value)
            columns[item.name] = pa.array([sink.getvalue().to_pybytes()], pa.large_binary())
        elif not callable(field_value):
            plain[item.name] = _adapter(hints[item.name]).dump_python(field_value, mode="python")
    row = pa.table(columns).replace_schema_metadata({b"klantreis.fields": _json(plain)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, row.schema) as writer:
        writer.write_table(row)
    return sink.getvalue().to_pybytes()


def _from_tables(kind: type, data: bytes) -> Any:
    row = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    plain = _loads((row.schema.metadata or {}).get(b"klantreis.fields", b"{}"))
    hints = typing.get_type_hints(kind)
    values: dict[str, Any] = {}
    for item in fields(kind):
        if item.name in row.column_names:
            stream = pa.py_buffer(row.column(item.name)[0].as_py())
            values[item.name] = pa.ipc.open_stream(stream).read_all()
        elif item.name in plain:
            values[item.name] = _adapter(hints[item.name]).validate_python(plain[item.name])
        elif typing.get_origin(hints[item.name]) is collections.abc.Callable:
            values[item.name] = _not_stored
    return kind(**values)


def _json(data: Any) -> bytes:
    return json.dumps(data, default=_plain).encode()


def decode(name: str, encoding: str, data: bytes) -> Any:
    if encoding == "arrow":
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        metadata = dict(table.schema.metadata or {})
        meta = _loads(metadata.pop(b"klantreis.meta", b"{}"))
        return Result(table.replace_schema_metadata(metadata or None), meta)
    if encoding == "plain":
        return _loads(data)
    if encoding == "failed":
        return Failure(bytes(data).decode())
    spec = get_spec(name)
    if spec is None or spec.result is None:
        raise ValueError(f"no result type for the stored {name!r}")
    if encoding == "tables":
        return _from_tables(spec.result, data)
    return _adapter(spec.result).validate_python(_loads(data))


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
    computed_at = datetime.now(UTC).replace(tzinfo=None)  # UTC, not the server's zone
    with store.write_lock:
        store.connection.execute(
            "INSERT OR REPLACE INTO page_results VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, params_key(params), fingerprint, computed_at, seconds, *encoded],
        ).fetchall()
    return True


register_erasure_step(stored_results_step(PAGE_RESULTS_TABLE.name))
