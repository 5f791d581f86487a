"""Audiences: a persona or rule segment as a list an e-mail tool can use.

An audience row is the person id, the user id and — only where the person consented to
marketing — the SHA-256 hash of their e-mail address (the hash identity stitching keeps; the
address itself is never exported). Posting persons who entered a segment to a webhook is
outbound, in `klantreis.act.audiences`.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
from pydantic import Field

from klantreis.errors import KlantreisError
from klantreis.measure.contract import AnalysisQuery, Positional
from klantreis.measure.registry import analysis
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

COLUMNS = ("person_id", "user_id", "email_sha256", "consent_marketing", "persona", "source")

AUDIENCE_SQL = """
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


class AudienceError(KlantreisError):
    """An unknown segment, or no personas stored yet."""


def check_segment(kr: Context, persona: str) -> None:
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


class AudienceQuery(AnalysisQuery):
    """`kr.audience(...)`, `GET /api/personas/{persona}/audience`, `klantreis personas
    export`."""

    persona: Annotated[str, Positional()] = Field(
        description="A discovered persona or a rule segment."
    )


@analysis("audience", query=AudienceQuery, result=pa.Table)
def audience(kr: Context, persona: str) -> pa.Table:
    """Members of a persona or rule segment: ids, and the e-mail hash where consented."""
    check_segment(kr, persona)
    return kr.engine.fetch(Query(AUDIENCE_SQL, persona=persona))


def to_csv(table: pa.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in table.select(list(COLUMNS)).to_pylist():
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue()
