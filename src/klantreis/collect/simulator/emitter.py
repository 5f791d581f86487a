"""Collects simulated messages column by column and turns them into canonical event rows.

The simulator writes rows straight into the canonical schema instead of going through
`collect.events.canonical_event`: validating 150k messages one by one through Pydantic would
take most of the time budget, and every row here is made by code whose shape the tests check
against `EVENT_ARROW_SCHEMA`.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from klantreis.collect.vocabulary import default_channel
from klantreis.store.schema import EVENT_ARROW_SCHEMA

SOURCE = "demo"
ROW_FIELDS = (
    "message_id",
    "type",
    "event",
    "name",
    "user_id",
    "anonymous_id",
    "previous_id",
    "group_id",
    "timestamp",
    "received_at",
    "channel",
    "properties",
    "traits",
    "context",
)
"""Order of the values in an emitted row; `source` is the same for every row."""
assert set(ROW_FIELDS) | {"source"} == set(EVENT_ARROW_SCHEMA.names)
ROW_STRUCT = pa.struct(
    [
        pa.field(name, pa.float64())
        if pa.types.is_timestamp(EVENT_ARROW_SCHEMA.field(name).type)
        else EVENT_ARROW_SCHEMA.field(name)
        for name in ROW_FIELDS
    ]
)
"""An emitted row as Arrow reads it: the times as seconds (`table` makes them timestamps)."""


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def json_text(value: dict[str, Any]) -> str:
    # decoded at once: orjson's bytes keep the buffer they were written into (about 4 KB
    # each, a page fault apiece) while they wait for the chunk's table
    return orjson.dumps(value).decode()


class Emitter:
    """Event rows of one batch of persons; message ids count per person so they stay stable.

    The hot path (`emit`, a few hundred thousand calls per chunk) keeps one tuple per row and
    leaves what can be done a column at a time to `table`: timestamps in microseconds and
    the default channel.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rows: list[tuple[Any, ...]] = []
        self._add = self.rows.append
        self.person = 0
        self._counter = 0
        self._prefix = f"demo-{seed}-0000000-"

    def begin_person(self, index: int, visitor: bool = False) -> None:
        """Message ids `demo-<seed>-<person>-<n>`; visitors have their own `v<number>` range,
        so adding persons or visitors never renames the messages already there."""
        self.person = index
        self._counter = 0
        self._prefix = f"demo-{self.seed}-{'v' if visitor else ''}{index:07d}-"

    def emit(
        self,
        at: float,
        event: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        context: str | None = None,
        channel: str | None = None,
        type: str = "track",
        name: str | None = None,
        traits: dict[str, Any] | None = None,
        previous_id: str | None = None,
        group_id: str | None = None,
        delay: float = 1.0,
    ) -> None:
        """One message at `at` (epoch seconds); `delay` is how long it took to arrive.

        `context` is pre-serialised JSON text, since a session shares one context.
        """
        self._counter += 1
        self._add(
            (
                f"{self._prefix}{self._counter:05d}",
                type,
                event,
                name,
                user_id,
                anonymous_id,
                previous_id,
                group_id,
                at,
                at + delay,
                channel,
                json_text(properties if properties is not None else {}),
                None if traits is None else json_text(traits),
                context,
            )
        )

    def emit_in_session(
        self,
        at: float,
        event: str,
        user_id: str | None,
        anonymous_id: str | None,
        properties: str,
        context: str | None,
        channel: str,
        type: str,
        name: str | None,
    ) -> None:
        """`emit` for a browser or app event of a session: positional, without the keyword
        handling of `emit`, since most of the shop's events come this way; `properties` is
        the JSON text already (a product's is encoded once, `Catalogue.viewed_json`)."""
        self._counter += 1
        self._add(
            (
                f"{self._prefix}{self._counter:05d}",
                type,
                event,
                name,
                user_id,
                anonymous_id,
                None,
                None,
                at,
                at + 1.0,
                channel,
                properties,
                None,
                context,
            )
        )

    def __len__(self) -> int:
        return len(self.rows)

    def empty_table(self) -> pa.Table:
        return EVENT_ARROW_SCHEMA.empty_table()

    def table(self) -> pa.Table:
        """The rows as an Arrow table of `EVENT_ARROW_SCHEMA`: read by Arrow in one pass as
        a struct per row (times as seconds), then column by column."""
        rows = self.rows
        columns = dict(zip(ROW_FIELDS, pa.array(rows, type=ROW_STRUCT).flatten(), strict=True))
        arrays = []
        for field in EVENT_ARROW_SCHEMA:
            name = field.name
            if name == "source":
                arrays.append(pa.array([SOURCE] * len(rows), type=field.type))
            elif name == "channel":
                arrays.append(_channels(columns["event"], columns["channel"]))
            elif pa.types.is_timestamp(field.type):
                # int(seconds * 1e6) row by row before: the same truncation of the same double
                micros = pc.cast(pc.multiply(columns[name], 1e6), pa.int64(), safe=False)
                arrays.append(micros.cast(field.type))
            else:
                arrays.append(columns[name])
        return pa.Table.from_arrays(arrays, schema=EVENT_ARROW_SCHEMA)


def _channels(events: pa.Array, given: pa.Array) -> pa.Array:
    """The channel given, else the event's default channel, else `web`: one lookup per
    distinct event name instead of one per row."""
    if given.null_count == 0:
        return given
    names = events.dictionary_encode()
    defaults = pa.array(
        [default_channel(name) or "web" for name in names.dictionary.to_pylist()],
        type=pa.string(),
    )
    return pc.coalesce(given, defaults.take(names.indices))
