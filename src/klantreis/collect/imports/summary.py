"""What an import did, for the CLI's summary, `--json`, and the Python API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Progress = Callable[[int, str], None]
"""Called with (rows just processed, what is being done) so a caller can draw progress."""


@dataclass
class ImportSummary:
    """Counts of one import run. `events_by_name` counts the events made (stored or not)."""

    source: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    events: int = 0
    events_stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    events_by_name: Counter[str] = field(default_factory=Counter)
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """False only when nothing could be read at all (the CLI then exits non-zero)."""
        return self.rows_read > 0

    def count_events(self, events: pa.Table) -> None:
        self.events += events.num_rows
        if events.num_rows:
            for row in pc.value_counts(events.column("event")).to_pylist():
                self.events_by_name[str(row["values"])] += int(row["counts"])

    def count_quarantine(self, rows: pa.Table) -> None:
        self.quarantined += rows.num_rows
        if rows.num_rows:
            reasons = pc.utf8_slice_codeunits(rows.column("reason").fill_null(""), 0, 200)
            for reason in reasons.to_pylist():
                self.quarantined_by_reason[_reason_kind(str(reason))] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "rows_read": self.rows_read,
            "events": self.events,
            "events_stored": self.events_stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "events_by_name": dict(sorted(self.events_by_name.items())),
            "quarantined_by_reason": dict(self.quarantined_by_reason.most_common()),
            "seconds": round(self.seconds, 3),
        }


def _reason_kind(reason: str) -> str:
    """`not a number: "abc"` and `not a number: "x"` count as one kind of reason."""
    return reason.split(": ", 1)[0].strip()
