"""The example returns mapping (docs/mappings/returns.yaml) brings a returns app's history in,
and `kr.returns()` reads its decisions and reasons as the rows say."""

from __future__ import annotations

from pathlib import Path

import klantreis
from klantreis.collect.imports import import_file

MAPPING = Path(__file__).resolve().parents[2] / "docs" / "mappings" / "returns.yaml"

HISTORY = """return_id,order_id,customer_email,status,reason,changed_at,amount
R1,O1,Anna@Example.com,requested,size,2026-03-02T10:00:00,
R1,O1,anna@example.com,approved,,2026-03-02T16:00:00,
R1,O1,anna@example.com,received,,2026-03-05T09:00:00,
R1,O1,anna@example.com,refunded,,2026-03-06T09:00:00,39.95
R2,O2,bram@example.com,requested,changed_mind,2026-03-03T10:00:00,
R2,O2,bram@example.com,rejected,outside_window,2026-03-04T10:00:00,
R3,O3,cora@example.com,requested,damaged,2026-03-03T11:00:00,
R3,O3,cora@example.com,lost in the mail,,2026-03-04T11:00:00,
"""


def test_a_returns_history_becomes_decisions_and_reasons(tmp_path: Path) -> None:
    export = tmp_path / "returns.csv"
    export.write_text(HISTORY)
    with klantreis.open(tmp_path / "shop.duckdb") as kr:
        summary = import_file(kr.store, export, MAPPING)
        found = kr.returns()
        quarantined = kr.store.connection.execute("SELECT line, reason FROM quarantine").fetchall()
    assert (summary.events_stored, summary.quarantined) == (7, 1)
    assert len(quarantined) == 1 and quarantined[0][0] == 9  # the unknown status, kept
    assert found.returns == 3
    assert {r.reason: r.returns for r in found.reasons} == {
        "size": 1,
        "changed_mind": 1,
        "damaged": 1,
    }
    assert (found.decisions.decided, found.decisions.rejected) == (2, 1)
    assert found.as_json()["rejection_reasons"] == [
        {"reason": "outside_window", "returns": 1, "share": 1.0}
    ]
    assert found.times["request_to_approval"].median_hours == 6.0
    assert found.times["request_to_refund"].median_hours == 95.0
