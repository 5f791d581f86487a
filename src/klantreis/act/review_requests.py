"""Review requests: after an order is delivered, invite consenting customers to a survey, once.

Only persons whose latest consent says yes (identify trait `consent_marketing` or a
`Consent Updated` event, as the model's `persons.consent_marketing` resolves it) and who have
an e-mail address are invited. Each order is invited at most once: sent orders are remembered
in `voice_review_requests` and as a `Review Request Sent` event, and both are checked.
"""

from __future__ import annotations

import html
import smtplib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from klantreis.act.notify import SmtpConfig, send_email
from klantreis.collect.events import canonical_event, now_utc
from klantreis.collect.surveys import SurveyLink, make_token, survey_text
from klantreis.errors import KlantreisError
from klantreis.store.query import Query
from klantreis.store.schema import EVENT_ARROW_SCHEMA, TableSpec, register_table

if TYPE_CHECKING:
    from klantreis.model.context import Context

REQUESTS_TABLE = register_table(
    TableSpec(
        "voice_review_requests",
        """CREATE TABLE IF NOT EXISTS voice_review_requests (
    order_id VARCHAR PRIMARY KEY,
    person_id VARCHAR,
    user_id VARCHAR,
    kind VARCHAR,
    sent_at TIMESTAMP
)""",
        person_columns=("user_id",),
        person_id_columns=("person_id",),
    )
)

_DUE = """
SELECT d.order_id, d.person_id, p.user_id,
       json_extract_string(p.traits, '$.email') AS email,
       lower(substr(coalesce(json_extract_string(p.traits, '$.language'),
                             json_extract_string(p.traits, '$.locale'), 'en'), 1, 2)) AS language,
       max(d.timestamp) AS delivered_at
FROM journey_events AS d
JOIN persons AS p ON p.person_id = d.person_id
WHERE d.event = 'Order Delivered'
  AND d.order_id IS NOT NULL
  AND p.consent_marketing = TRUE
  AND p.user_id IS NOT NULL
  AND json_extract_string(p.traits, '$.email') LIKE '%@%'
  AND NOT EXISTS (SELECT 1 FROM voice_review_requests AS r WHERE r.order_id = d.order_id)
  AND NOT EXISTS (
      SELECT 1 FROM events AS e
      WHERE e.event = 'Review Request Sent'
        AND json_extract_string(e.properties, '$.order_id') = d.order_id)
GROUP BY d.order_id, d.person_id, p.user_id, email, language
ORDER BY delivered_at, d.order_id
LIMIT :limit
"""


@dataclass
class ReviewRequestRun:
    sent: list[str] = field(default_factory=list)
    """Order ids invited in this run."""
    failed: dict[str, str] = field(default_factory=dict)
    """Order id → why sending failed (it will be tried again next run)."""


def _message(language: str, order_id: str, url: str) -> tuple[str, str, str]:
    subject = survey_text("invitation_subject", language)
    body = survey_text("invitation_body", language).format(order=order_id)
    text = f"{body}\n\n{url}\n"
    page = (
        f"<p>{html.escape(body)}</p>"
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(url)}</a></p>'
    )
    return subject, text, page


def send_review_requests(
    kr: Context,
    smtp: SmtpConfig,
    *,
    base_url: str,
    kind: str = "nps",
    limit: int = 500,
) -> ReviewRequestRun:
    """Invite every consenting person with a delivered, not yet invited order."""
    from klantreis.model import ensure_built

    if not base_url.startswith(("http://", "https://")):
        raise KlantreisError(f"must be http(s): {base_url!r}", field="base_url")
    store = kr.store
    with store.write_lock:
        store.connection.execute(REQUESTS_TABLE.ddl)
    ensure_built(kr)
    run = ReviewRequestRun()
    for due in kr.engine.rows(Query(_DUE, limit=limit)):
        order_id = str(due["order_id"])
        token = make_token(
            store, SurveyLink(kind, due["user_id"], None, order_id, due["language"] or "en")
        )
        url = f"{base_url.rstrip('/')}/s/{token}"
        subject, text, page = _message(due["language"] or "en", order_id, url)
        try:
            send_email(smtp, to=str(due["email"]), subject=subject, text=text, html=page)
        except (smtplib.SMTPException, OSError) as exc:
            run.failed[order_id] = f"{type(exc).__name__}: {exc}"
            continue
        _remember(kr, due, kind)
        run.sent.append(order_id)
    return run


def _remember(kr: Context, due: dict[str, object], kind: str) -> None:
    order_id = str(due["order_id"])
    with kr.store.write_lock:
        kr.store.connection.execute(
            "INSERT OR IGNORE INTO voice_review_requests VALUES (?, ?, ?, ?, ?)",
            [order_id, due["person_id"], due["user_id"], kind, now_utc()],
        )
    row = canonical_event(
        {
            "type": "track",
            "event": "Review Request Sent",
            "userId": due["user_id"],
            "messageId": f"review-request-{order_id}",
            "properties": {"order_id": order_id, "survey_id": f"{kind}-{order_id}"},
        },
        received_at=now_utc(),
        source="voice:review-requests",
    )
    kr.store.append(pa.Table.from_pylist([row], schema=EVENT_ARROW_SCHEMA))
