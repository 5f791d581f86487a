"""Surveys (NPS, CSAT, CES): definitions, signed links per person and order, answers as events.

A link carries its survey, person, order and language, signed with the store's own secret
(HMAC-SHA256), so the hosted page needs no login and a forged or altered link is refused. An
answer becomes a `Survey Answered` event through the store's append; its message id comes from
the link, so a link answers once (a second submit is a duplicate and stored once).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import yaml

from klantreis.collect.events import InvalidEvent, canonical_event, now_utc
from klantreis.errors import KlantreisError
from klantreis.store import Store
from klantreis.store.schema import EVENT_ARROW_SCHEMA

SECRET_META_KEY = "voice.survey_secret"
LANGUAGES = ("en", "nl", "da", "de", "pt")
COMMENT_MAX = 5000


class SurveyError(KlantreisError):
    """A survey link or answer that cannot be accepted; `field` names the culprit."""

    field: str

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, field=field)


@dataclass(frozen=True)
class SurveyDefinition:
    kind: str
    minimum: int
    maximum: int
    question: dict[str, str]
    low: dict[str, str]
    high: dict[str, str]

    def text(self, part: str, language: str) -> str:
        values: dict[str, str] = getattr(self, part)
        return values.get(language) or values["en"]


@functools.lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (Path(__file__).parent / "surveys.yaml").read_text("utf-8")
    )
    return data


def definitions() -> dict[str, SurveyDefinition]:
    return {
        kind: SurveyDefinition(
            kind, int(s["min"]), int(s["max"]), s["question"], s["low"], s["high"]
        )
        for kind, s in _raw()["surveys"].items()
    }


def survey_text(name: str, language: str) -> str:
    values: dict[str, str] = _raw()["texts"][name]
    return values.get(language) or values["en"]


@dataclass(frozen=True)
class SurveyLink:
    """What a signed link stands for."""

    kind: str
    user_id: str | None
    anonymous_id: str | None
    order_id: str | None
    language: str

    def payload(self) -> dict[str, Any]:
        return {
            "k": self.kind,
            "u": self.user_id,
            "a": self.anonymous_id,
            "o": self.order_id,
            "l": self.language,
        }


def secret(store: Store) -> bytes:
    """The store's survey signing secret, made on first use and kept in `meta`."""
    value = store.get_meta(SECRET_META_KEY)
    if value is None:
        if store.read_only:
            raise SurveyError("store", "no survey secret yet; open the store for writing once")
        value = secrets.token_hex(32)
        store.set_meta(SECRET_META_KEY, value)
    return bytes.fromhex(value)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(store: Store, link: SurveyLink) -> str:
    if link.kind not in definitions():
        raise SurveyError("kind", f"{link.kind!r} is not one of {', '.join(definitions())}")
    if not (link.user_id or link.anonymous_id):
        raise SurveyError("user_id", "a survey link needs a user id or anonymous id")
    body = orjson.dumps(link.payload(), option=orjson.OPT_SORT_KEYS)
    signature = hmac.new(secret(store), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(signature)}"


def read_token(store: Store, token: str) -> SurveyLink:
    """The link a token stands for; `SurveyError("token", ...)` when forged or damaged."""
    body_text, _, signature_text = token.partition(".")
    try:
        body, signature = _unb64(body_text), _unb64(signature_text)
    except (ValueError, TypeError):
        raise SurveyError("token", "not a survey link") from None
    expected = hmac.new(secret(store), body, hashlib.sha256).digest()
    # Base64 leaves spare bits in the last character; only the canonical spelling is valid, so
    # that every different link text is a different (and so unsigned) link.
    canonical = _b64(body) == body_text and _b64(signature) == signature_text
    if not canonical or not hmac.compare_digest(signature, expected):
        raise SurveyError("token", "the survey link is not valid (altered or from another shop)")
    data = orjson.loads(body)
    language = data.get("l") if data.get("l") in LANGUAGES else "en"
    return SurveyLink(data["k"], data.get("u"), data.get("a"), data.get("o"), language)


def answer_survey(
    store: Store, token: str, score: Any, comment: str | None = None, *, phase: str | None = None
) -> bool:
    """Store the answer as a `Survey Answered` event; False when this link already answered."""
    link = read_token(store, token)
    survey = definitions()[link.kind]
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        raise SurveyError(
            "score", f"must be a whole number {survey.minimum}..{survey.maximum}"
        ) from None
    if not survey.minimum <= value <= survey.maximum:
        raise SurveyError("score", f"must be between {survey.minimum} and {survey.maximum}")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise SurveyError("comment", f"longer than {COMMENT_MAX} characters")
    properties: dict[str, Any] = {
        "survey_id": f"{link.kind}-{link.order_id or 'general'}",
        "kind": link.kind,
        "score": value,
        "language": link.language,
        "phase": phase or ("evaluation" if link.kind == "nps" else "service"),
    }
    if link.order_id:
        properties["order_id"] = link.order_id
    if comment:
        properties["comment"] = comment
    message = {
        "type": "track",
        "event": "Survey Answered",
        "messageId": "survey-" + hashlib.sha256(token.encode()).hexdigest()[:32],
        "userId": link.user_id,
        "anonymousId": link.anonymous_id,
        "properties": properties,
    }
    try:
        row = canonical_event(message, received_at=now_utc(), source="survey")
    except InvalidEvent as exc:
        raise SurveyError(exc.field, exc.reason) from None
    result = store.append(pa.Table.from_pylist([row], schema=EVENT_ARROW_SCHEMA))
    return result.stored == 1
