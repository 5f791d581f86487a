"""Audiences: a persona or rule segment as a list an e-mail tool can use, and entry webhooks.

An audience row is the person id, the user id and — only where the person consented to
marketing — the SHA-256 hash of their e-mail address (the hash identity stitching keeps; the
address itself is never exported). `notify_entries` posts persons who entered a segment to a
webhook and remembers them in `audience_sent`, so nobody is sent twice for the same segment.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from klantreis.measure.registry import analysis
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from klantreis.api import Klantreis

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
COLUMNS = ("person_id", "user_id", "email_sha256", "consent_marketing", "persona", "source")
BATCH = 100

_AUDIENCE = """
SELECT pp.person_id, p.user_id,
    CASE WHEN p.consent_marketing THEN e.email_sha256 END AS email_sha256,
    p.consent_marketing, pp.persona, pp.source
FROM person_personas AS pp
LEFT JOIN persons AS p ON p.person_id = pp.person_id
LEFT JOIN (
    SELECT person_id, min(id) AS email_sha256 FROM identities
    WHERE id_kind = 'email_hash' GROUP BY person_id
) AS e ON e.person_id = pp.person_id
WHERE pp.persona = :persona
ORDER BY pp.person_id
"""

_NOT_SENT = (  # static text, values bound
    """
SELECT a.* FROM (
"""  # noqa: S608
    + _AUDIENCE
    + """
) AS a
WHERE a.person_id NOT IN (SELECT person_id FROM audience_sent WHERE persona = :persona)
"""
)


class AudienceError(ValueError):
    """An unknown segment, or no personas stored yet."""


def _check(kr: Klantreis, persona: str) -> None:
    if not kr.engine.has_table("person_personas"):
        raise AudienceError(
            "no personas yet: run `klantreis personas discover` or `klantreis personas rules`"
        )
    known = (
        kr.engine.scalar(Query("SELECT count(*) FROM personas WHERE persona = :p", p=persona))
        if kr.engine.has_table("personas")
        else 0
    )
    if not known:
        names = [
            r["persona"]
            for r in kr.engine.rows("SELECT DISTINCT persona FROM person_personas ORDER BY persona")
        ]
        raise AudienceError(
            f"persona: unknown segment {persona!r} (known: {', '.join(names) or 'none'})"
        )


@analysis("audience")
def audience(kr: Klantreis, persona: str) -> pa.Table:
    """Members of a persona or rule segment: ids, and the e-mail hash where consented."""
    _check(kr, persona)
    return kr.engine.fetch(Query(_AUDIENCE, persona=persona))


def to_csv(table: pa.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in table.select(list(COLUMNS)).to_pylist():
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue()


def notify_entries(kr: Klantreis, persona: str, url: str) -> dict[str, Any]:
    """POST persons who entered `persona` since the last call to `url`; returns counts.

    Batches of up to 100 persons per request: `{"event": "audience.entered", "persona": ...,
    "persons": [{person_id, user_id, email_sha256}]}`. A batch is recorded as sent only after
    the receiver answered 2xx, so a failed batch is offered again next time.
    """
    from klantreis.present.notify.webhook import post_webhook

    _check(kr, persona)
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


def notify_configured(kr: Klantreis) -> list[dict[str, Any]]:
    """Send entries for the segments named in klantreis.toml, if any:

        [personas]
        webhook = "https://mail-tool.example/hooks/klantreis"
        notify = ["first-time-buyers", "careful-comparers"]

    Run after personas change (`personas rules`, `discover`, `assign` call it)."""
    section = kr.settings.sections.get("personas") or {}
    url, segments = section.get("webhook"), section.get("notify") or []
    if not url or not segments:
        return []
    if not isinstance(segments, list):
        raise AudienceError("klantreis.toml: [personas] notify must be a list of persona ids")
    return [notify_entries(kr, str(segment), str(url)) for segment in segments]


def _remember(kr: Klantreis, persona: str, url: str, persons: list[str], status: int) -> None:
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
