"""Collects simulated messages column by column and turns them into canonical event rows.

The simulator writes rows straight into the canonical schema instead of going through
`collect.events.canonical_event`: validating 150k messages one by one through Pydantic would
take most of the time budget, and every row here is made by code whose shape the tests check
against `EVENT_ARROW_SCHEMA`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa

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


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class Emitter:
    """Event rows of one batch of persons; message ids count per person so they stay stable."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rows: list[tuple[Any, ...]] = []
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
        # One tuple per row (columns are split once in `table`): this is the hot path.
        self.rows.append(
            (
                f"{self._prefix}{self._counter:05d}",
                type,
                event,
                name,
                user_id,
                anonymous_id,
                previous_id,
                group_id,
                int(at * 1e6),
                int((at + delay) * 1e6),
                channel or default_channel(event) or "web",
                orjson.dumps(properties if properties is not None else {}).decode(),
                None if traits is None else orjson.dumps(traits).decode(),
                context,
            )
        )

    def __len__(self) -> int:
        return len(self.rows)

    def empty_table(self) -> pa.Table:
        return EVENT_ARROW_SCHEMA.empty_table()

    def table(self) -> pa.Table:
        columns = dict(zip(ROW_FIELDS, zip(*self.rows, strict=True), strict=True))
        arrays = []
        for field in EVENT_ARROW_SCHEMA:
            if field.name == "source":
                arrays.append(pa.array([SOURCE] * len(self.rows), type=field.type))
                continue
            values = columns.get(field.name, ())
            if pa.types.is_timestamp(field.type):
                arrays.append(pa.array(np.asarray(values, dtype="int64")).cast(field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(arrays, schema=EVENT_ARROW_SCHEMA)
