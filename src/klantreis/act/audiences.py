"""Entry webhooks: persons who entered a segment, posted to the shop's e-mail tool once.

`notify_entries` posts persons who entered a segment (`klantreis.measure.audiences`) to a
webhook and remembers them in `audience_sent`, so nobody is sent twice for the same segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.act.notify.webhook import post_webhook
from klantreis.measure.audiences import AUDIENCE_SQL, check_segment
from klantreis.measure.personas.settings import PersonasSettings
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from klantreis.model.context import Context

AUDIENCE_SENT = register_table(
    TableSpec(
        "audience_sent",
        """CREATE TABLE IF NOT EXISTS audience_sent (
    persona VARCHAR,
    person_id VARCHAR,
    webhook VARCHAR,
    sent_at TIMESTAMP,
    status BIGINT
)""",
        person_id_columns=("person_id",),
    )
)
BATCH = 100

_NOT_SENT = (  # static text, values bound
    """
SELECT a.* FROM (
"""  # noqa: S608
    + AUDIENCE_SQL
    + """
) AS a
WHERE a.person_id NOT IN (SELECT person_id FROM audience_sent WHERE persona = :persona)
"""
)


def notify_entries(kr: Context, persona: str, url: str) -> dict[str, Any]:
    """POST persons who entered `persona` since the last call to `url`; returns counts.

    Batches of up to 100 persons per request: `{"event": "audience.entered", "persona": ...,
    "persons": [{person_id, user_id, email_sha256}]}`. A batch is recorded as sent only after
    the receiver answered 2xx, so a failed batch is offered again next time.
    """
    check_segment(kr, persona)
    kr.store.register_table(AUDIENCE_SENT)
    entered = kr.engine.fetch(Query(_NOT_SENT, persona=persona)).to_pylist()
    sent = failed = 0
    for start in range(0, len(entered), BATCH):
        batch = entered[start : start + BATCH]
        payload = {
            "event": "audience.entered",
            "persona": persona,
            "persons": [
                {
                    "person_id": r["person_id"],
                    "user_id": r["user_id"],
                    "email_sha256": r["email_sha256"],
                }
                for r in batch
            ],
        }
        status = post_webhook(url, payload)
        if not 200 <= status < 300:
            failed += len(batch)
            continue
        _remember(kr, persona, url, [r["person_id"] for r in batch], status)
        sent += len(batch)
    return {"persona": persona, "entered": len(entered), "sent": sent, "failed": failed}


def notify_configured(kr: Context) -> list[dict[str, Any]]:
    """Send entries for the segments named in klantreis.toml, if any:

        [personas]
        webhook = "https://mail-tool.example/hooks/klantreis"
        notify = ["first-time-buyers", "careful-comparers"]

    Run after personas change (`personas rules`, `discover`, `assign` call it)."""
    section = kr.settings.section(PersonasSettings)
    if not section.webhook or not section.notify:
        return []
    return [notify_entries(kr, segment, section.webhook) for segment in section.notify]


def _remember(kr: Context, persona: str, url: str, persons: list[str], status: int) -> None:
    now = utcnow()
    rows = pa.table(
        {
            "persona": pa.array([persona] * len(persons), pa.string()),
            "person_id": pa.array(persons, pa.string()),
            "webhook": pa.array([url] * len(persons), pa.string()),
            "sent_at": pa.array([now] * len(persons), pa.timestamp("us")),
            "status": pa.array([status] * len(persons), pa.int64()),
        }
    )
    con = kr.store.connection
    with kr.store.write_lock:
        con.register("_kr_sent", rows)
        try:
            con.execute("INSERT INTO audience_sent BY NAME SELECT * FROM _kr_sent")
        finally:
            con.unregister("_kr_sent")
