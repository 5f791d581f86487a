"""Act on a case: a message to its customer by e-mail (the shop's SMTP server) or to the shop's
helpdesk or chat tool by webhook, rendered from `messages.yaml` in the customer's language.

These messages are transactional, about the customer's own order, review or question, and
never carry an offer: they need no marketing consent, and klantreis never assumes that consent.
A customer whose traits say `transactional_email: false` gets no e-mail at all. Every message
sent becomes a `Case Message Sent` event in the customer's journey (so recovery can be
measured from events alone) and a line in the case's notes.
"""

from __future__ import annotations

import json
import smtplib
from functools import cache
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import yaml

from klantreis.act.cases.inbox import CaseError, get_case
from klantreis.act.cases.rules import CLOSED, CaseSettings
from klantreis.act.notify import SmtpConfig, WebhookError, post_webhook, send_email
from klantreis.collect.events import canonical_event
from klantreis.store.query import Query
from klantreis.store.schema import EVENT_ARROW_SCHEMA
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from klantreis.model.context import Context

LANGUAGES = ("en", "nl", "da")
MESSAGE_EVENT = "Case Message Sent"
_NO_NAME = {"en": "customer", "nl": "klant", "da": "kunde"}
Via = Literal["email", "webhook"]


@cache
def templates() -> dict[str, dict[str, dict[str, str]]]:
    """template id → language → {subject, body}."""
    text = resources.files(__package__).joinpath("messages.yaml").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(text)
    return loaded


def render(template: str, language: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of a template in a language (English when it has no such language)."""
    known = templates()
    if template not in known:
        raise CaseError(
            f"no message {template!r}; known: {', '.join(sorted(known))}", field="template"
        )
    language = language if language in known[template] else "en"
    values = {"name": _NO_NAME.get(language, "customer"), "order": "", **values}
    text = known[template][language]
    subject = Template(text["subject"]).safe_substitute(values).strip()
    body = Template(text["body"]).safe_substitute(values)
    return subject, body


_RECIPIENT = """
SELECT p.person_id, p.user_id, p.traits,
       (SELECT min(i.id) FROM identities AS i
        WHERE i.person_id = p.person_id AND i.id_kind = 'anonymous_id') AS anonymous_id
FROM persons AS p WHERE p.person_id = :person
"""


def _recipient(kr: Context, case: dict[str, Any]) -> dict[str, Any]:
    rows = kr.engine.rows(Query(_RECIPIENT, person=case["person_id"]))
    if not rows:
        raise CaseError(f"{case['case_id']}: its person is not in the model", field="case_id")
    row = rows[0]
    traits = json.loads(row["traits"] or "{}")
    language = str(traits.get("language") or traits.get("locale") or "en")[:2].lower()
    return {
        "user_id": row["user_id"],
        "anonymous_id": row["anonymous_id"],
        "email": traits.get("email") if "@" in str(traits.get("email") or "") else None,
        "first_name": traits.get("first_name"),
        "language": language if language in LANGUAGES else "en",
        "no_email": traits.get("transactional_email") is False,
    }


def send_case_message(
    kr: Context,
    case_id: str,
    *,
    via: Via = "email",
    by: str,
    template: str | None = None,
) -> dict[str, Any]:
    """Send the case's message and record it; returns the case as it is afterwards."""
    case = get_case(kr, case_id)
    if case["status"] in CLOSED:
        raise CaseError(f"{case_id}: is already {case['status']}", field="case_id")
    template = template or case["message"]
    if not template:
        raise CaseError(
            f"{case_id}: its rule names no message; choose one of {', '.join(sorted(templates()))}",
            field="template",
        )
    section = kr.settings.section(CaseSettings)
    who = _recipient(kr, case)
    values = {"order": case["order_id"] or "", "shop": section.shop_name}
    if who["first_name"]:
        values["name"] = str(who["first_name"])
    subject, body = render(template, who["language"], values)
    if via == "email":
        _by_email(kr, case_id, who, subject, body)
    elif via == "webhook":
        _by_webhook(section, case, who, template, subject, body)
    else:
        raise CaseError(f"{via!r} is not one of email, webhook", field="via")
    return _record(kr, case, who, template, via, by)


def _by_email(kr: Context, case_id: str, who: dict[str, Any], subject: str, body: str) -> None:
    smtp = SmtpConfig.from_settings(kr.settings)
    if smtp is None:
        raise CaseError("klantreis.toml has no [smtp] section to send e-mail with", field="via")
    if who["no_email"]:
        raise CaseError(
            f"{case_id}: the customer asked for no service e-mail (transactional_email = false)",
            field="via",
        )
    if not who["email"]:
        raise CaseError(f"{case_id}: the customer has no e-mail address", field="via")
    try:
        send_email(smtp, to=who["email"], subject=subject, text=body)
    except (smtplib.SMTPException, OSError) as exc:
        raise CaseError(
            f"the SMTP server {smtp.host}:{smtp.port} did not take it: {exc}", field="via"
        ) from None


def _by_webhook(
    section: CaseSettings,
    case: dict[str, Any],
    who: dict[str, Any],
    template: str,
    subject: str,
    body: str,
) -> None:
    if not section.webhook:
        raise CaseError("klantreis.toml [cases] has no webhook to post to", field="via")
    payload = {
        "event": "case.message",
        "case": {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in case.items()
            if k
            in (
                "case_id",
                "kind",
                "reason",
                "priority",
                "status",
                "owner",
                "order_id",
                "case_key",
                "expectation_id",
                "person_id",
                "due_at",
            )
        },
        "customer": {"user_id": who["user_id"], "email": who["email"], "language": who["language"]},
        "message": {"template": template, "subject": subject, "text": body, "transactional": True},
    }
    try:
        status = post_webhook(section.webhook, payload)
    except WebhookError as exc:
        raise CaseError(str(exc), field="via") from None
    if not 200 <= status < 300:
        raise CaseError(f"the webhook answered HTTP {status}", field="via")


def _record(
    kr: Context, case: dict[str, Any], who: dict[str, Any], template: str, via: str, by: str
) -> dict[str, Any]:
    """The message as an event in the journey, and a line in the case's notes."""
    from klantreis.act.cases.inbox import add_note

    now = utcnow()
    sent = int(case["messages_sent"] or 0) + 1
    ids = {"userId": who["user_id"]} if who["user_id"] else {"anonymousId": who["anonymous_id"]}
    row = canonical_event(
        {
            "type": "track",
            "event": MESSAGE_EVENT,
            **ids,
            "messageId": f"case-message-{case['case_id']}-{sent}",
            "timestamp": now.isoformat() + "Z",
            "properties": {
                "case_id": case["case_id"],
                "kind": case["kind"],
                "message": template,
                "via": via,
                "order_id": case["order_id"],
                "expectation_id": case["expectation_id"],
                "language": who["language"],
                "transactional": True,
            },
        },
        received_at=now,
        source="act:cases",
    )
    kr.store.append(pa.Table.from_pylist([row], schema=EVENT_ARROW_SCHEMA))
    with kr.store.write_lock:
        kr.store.connection.execute(
            "UPDATE cases SET messages_sent = ?, last_message_at = ?, "
            "status = CASE WHEN status = 'open' THEN 'in_progress' ELSE status END "
            "WHERE case_id = ?",
            [sent, now, case["case_id"]],
        ).fetchall()
    channel = "e-mail" if via == "email" else "webhook"
    return add_note(kr, case["case_id"], f"message {template} sent by {channel}", by=by)
