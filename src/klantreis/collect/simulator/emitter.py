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
from klantreis.store.schema import EVENT_ARROW_SCHEMA, EVENT_COLUMNS

SOURCE = "demo"


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class Emitter:
    """Event rows of one batch of persons; message ids count per person so they stay stable."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.columns: dict[str, list[Any]] = {name: [] for name, _ in EVENT_COLUMNS}
        self.person = 0
        self._counter = 0

    def begin_person(self, index: int) -> None:
        self.person = index
        self._counter = 0

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
        c = self.columns
        self._counter += 1
        c["message_id"].append(f"demo-{self.seed}-{self.person:07d}-{self._counter:05d}")
        c["type"].append(type)
        c["event"].append(event)
        c["name"].append(name)
        c["user_id"].append(user_id)
        c["anonymous_id"].append(anonymous_id)
        c["previous_id"].append(previous_id)
        c["group_id"].append(group_id)
        c["timestamp"].append(round(at * 1e6))
        c["received_at"].append(round((at + delay) * 1e6))
        c["channel"].append(channel or default_channel(event) or "web")
        c["properties"].append(dumps(properties if properties is not None else {}))
        c["traits"].append(dumps(traits))
        c["context"].append(context)
        c["source"].append(SOURCE)

    def __len__(self) -> int:
        return len(self.columns["message_id"])

    def table(self) -> pa.Table:
        arrays = []
        for field in EVENT_ARROW_SCHEMA:
            values = self.columns[field.name]
            if pa.types.is_timestamp(field.type):
                arrays.append(pa.array(np.asarray(values, dtype="int64")).cast(field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(arrays, schema=EVENT_ARROW_SCHEMA)
