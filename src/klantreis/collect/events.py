"""Canonical events from Segment-style messages.

One validation for every way in (HTTP collector, JSON imports, the Python API), so an event
means the same whichever door it came through. Invalid messages raise `InvalidEvent` naming the
field; callers quarantine them with that reason.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from klantreis.collect.vocabulary import TYPE_EVENT_NAMES, default_channel

MessageType = Literal["track", "identify", "page", "screen", "group", "alias"]

LIBRARY_CHANNELS = {
    "analytics.js": "web",
    "analytics-next": "web",
    "analytics-ios": "app",
    "analytics-android": "app",
    "analytics-react-native": "app",
    "analytics-swift": "app",
    "analytics-kotlin": "app",
}
_LIBRARY_PREFIXES = tuple(LIBRARY_CHANNELS)
SEGMENT_CHANNELS = {"browser": "web", "mobile": "app"}
MAX_DEPTH = 255
"""The deepest nesting orjson writes, and so the deepest a stored JSON column can be."""


class InvalidEvent(ValueError):
    """A message that cannot become an event; `field` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


MIN_YEAR = 1990
MAX_YEAR = 2200

_PLAIN_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)").fullmatch


def _plain_timestamp(value: str) -> datetime | None:
    """The common shape ("2026-11-20T10:00:00.000Z") read as is (Python reads the Z), without
    the general path's strip and replace; None when it is not that shape or not a real date."""
    if _PLAIN_ISO(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_timestamp(value: Any, field: str) -> datetime:
    """ISO 8601 text (or epoch milliseconds) to naive UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidEvent(field, f"epoch milliseconds {value!r} out of range") from None
    elif type(value) is str and (plain := _plain_timestamp(value)) is not None:
        parsed = plain
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidEvent(field, f"not an ISO 8601 timestamp: {value[:40]!r}") from exc
    else:
        raise InvalidEvent(field, "not a timestamp")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    _check_year(parsed, field)
    return parsed


def _check_year(moment: datetime, field: str, why: str = "") -> None:
    if not (MIN_YEAR <= moment.year <= MAX_YEAR):
        raise InvalidEvent(
            field, f"year {moment.year}{why} is out of range ({MIN_YEAR}-{MAX_YEAR})"
        )


def skew_corrected(
    original: datetime, sent: datetime, received_at: datetime, field: str
) -> datetime:
    """Segment's clock-skew correction, receivedAt - (sentAt - originalTimestamp), held to the
    same year range as any timestamp: a device clock decades off must not yield an event in
    1816 (or an overflow) that no query would ever expect."""
    try:
        corrected = received_at - (sent - original)
    except OverflowError:
        raise InvalidEvent(field, "out of range after clock-skew correction with sentAt") from None
    _check_year(corrected, field, " after clock-skew correction with sentAt")
    return corrected


class SegmentMessage(BaseModel):
    """A message of the Segment Tracking API (field names as on the wire)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: MessageType
    message_id: str | None = Field(default=None, alias="messageId", max_length=200)
    user_id: str | None = Field(default=None, alias="userId", max_length=500)
    anonymous_id: str | None = Field(default=None, alias="anonymousId", max_length=500)
    previous_id: str | None = Field(default=None, alias="previousId", max_length=500)
    group_id: str | None = Field(default=None, alias="groupId", max_length=500)
    event: str | None = Field(default=None, max_length=500)
    name: str | None = Field(default=None, max_length=500)
    timestamp: Any = None
    original_timestamp: Any = Field(default=None, alias="originalTimestamp")
    sent_at: Any = Field(default=None, alias="sentAt")
    channel: str | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None

    @field_validator("user_id", "anonymous_id", "previous_id", "group_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return str(value)
        return value


_TYPES = frozenset(("track", "identify", "page", "screen", "group", "alias"))
# Field names that Pydantic also accepts instead of the alias (populate_by_name); a message
# using them takes the Pydantic path so that the two paths can never disagree.
_PYTHON_NAMES = frozenset(
    ("message_id", "user_id", "anonymous_id", "previous_id", "group_id", "original_timestamp",
     "sent_at")
)  # fmt: skip


class _Fields:
    """The fields of a well-formed message, as `SegmentMessage` would hold them (the same
    names and types, so `canonical_event` reads either alike)."""

    type: str
    message_id: str | None
    user_id: str | None
    anonymous_id: str | None
    previous_id: str | None
    group_id: str | None
    event: str | None
    name: str | None
    timestamp: Any
    original_timestamp: Any
    sent_at: Any
    channel: str | None
    properties: dict[str, Any] | None
    traits: dict[str, Any] | None
    context: dict[str, Any] | None

    __slots__ = (
        "anonymous_id", "channel", "context", "event", "group_id", "message_id", "name",
        "original_timestamp", "previous_id", "properties", "sent_at", "timestamp", "traits",
        "type", "user_id",
    )  # fmt: skip


def _text(value: Any, limit: int) -> bool:
    return value is None or (type(value) is str and len(value) <= limit)


def _object(value: Any) -> bool:
    return value is None or (type(value) is dict and all(type(k) is str for k in value))


def _fast_fields(payload: dict[str, Any]) -> _Fields | None:
    """The common well-formed message without Pydantic (its validation was the largest part of
    the collector's per-event cost); None for anything unusual, which then goes through
    `SegmentMessage` for its exact error message. Accepts only what Pydantic would accept
    unchanged: exact `str` within the length limits, `dict` objects with text keys."""
    get = payload.get
    kind = get("type")
    if type(kind) is not str or kind not in _TYPES or not _PYTHON_NAMES.isdisjoint(payload):
        return None
    fields = _Fields()
    fields.type = kind
    fields.message_id = value = get("messageId")
    if not _text(value, 200):
        return None
    fields.user_id = value = get("userId")
    if not _text(value, 500):
        return None
    fields.anonymous_id = value = get("anonymousId")
    if not _text(value, 500):
        return None
    fields.previous_id = value = get("previousId")
    if not _text(value, 500):
        return None
    fields.group_id = value = get("groupId")
    if not _text(value, 500):
        return None
    fields.event = value = get("event")
    if not _text(value, 500):
        return None
    fields.name = value = get("name")
    if not _text(value, 500):
        return None
    fields.channel = value = get("channel")
    if value is not None and type(value) is not str:
        return None
    fields.properties = value = get("properties")
    if not _object(value):
        return None
    fields.traits = value = get("traits")
    if not _object(value):
        return None
    fields.context = value = get("context")
    if not _object(value):
        return None
    fields.timestamp = get("timestamp")
    fields.original_timestamp = get("originalTimestamp")
    fields.sent_at = get("sentAt")
    return fields


def _given(value: str | None) -> str | None:
    """An id as stored: None when absent, empty or only whitespace (a blank userId would
    otherwise make one person of every event that carries it)."""
    return value if value and not value.isspace() else None


def unstorable(exc: Exception) -> str:
    """Why orjson could not write a value as JSON, in the user's terms."""
    text = str(exc)
    if "Recursion" in text:
        return f"nested deeper than {MAX_DEPTH} levels"
    if "64-bit" in text:
        return "a number beyond 64-bit integers cannot be stored exactly; send it as a string"
    return f"cannot be stored as JSON: {text}"


def _dumps(value: dict[str, Any] | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError as exc:  # nesting or integers orjson cannot write
        raise InvalidEvent(field, unstorable(exc)) from None


def _channel(msg: SegmentMessage | _Fields, event: str | None) -> str | None:
    props = msg.properties or {}
    context = msg.context or {}
    explicit = props.get("channel") or context.get("channel")
    if isinstance(explicit, str) and explicit:
        return explicit
    library = context.get("library") if isinstance(context, dict) else None
    library = library.get("name") if isinstance(library, dict) else None
    # One C-level startswith over all prefixes first: most libraries match none (hot path).
    if isinstance(library, str) and library.startswith(_LIBRARY_PREFIXES):
        for prefix, channel in LIBRARY_CHANNELS.items():
            if library.startswith(prefix):
                vocab = default_channel(event)
                return vocab if vocab not in (None, "web") else channel
    if msg.channel in SEGMENT_CHANNELS:
        return SEGMENT_CHANNELS[msg.channel]
    return default_channel(event) or "web"


def canonical_event(
    payload: dict[str, Any],
    *,
    received_at: datetime,
    source: str,
    default_type: str | None = None,
) -> dict[str, Any]:
    """A canonical event row from one message, or `InvalidEvent` naming the field."""
    if not isinstance(payload, dict):
        raise InvalidEvent("message", "not a JSON object")
    if default_type and "type" not in payload:
        payload = {**payload, "type": default_type}
    msg: SegmentMessage | _Fields | None = _fast_fields(payload)
    if msg is None:
        try:
            msg = SegmentMessage.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "message"
            raise InvalidEvent(field, err["msg"]) from None
    user_id, anonymous_id = _given(msg.user_id), _given(msg.anonymous_id)
    if user_id is None and anonymous_id is None:
        blank = "" if msg.user_id is None and msg.anonymous_id is None else " (a blank one is none)"
        raise InvalidEvent("userId", f"one of userId or anonymousId is required{blank}")
    if msg.type == "track" and not (msg.event and msg.event.strip()):
        raise InvalidEvent("event", "a track message needs an event name")
    if msg.type == "alias" and not msg.previous_id:
        raise InvalidEvent("previousId", "an alias message needs previousId")
    if msg.type == "group" and not msg.group_id:
        raise InvalidEvent("groupId", "a group message needs groupId")

    if msg.timestamp is not None:
        timestamp = parse_timestamp(msg.timestamp, "timestamp")
    elif msg.original_timestamp is not None:
        timestamp = parse_timestamp(msg.original_timestamp, "originalTimestamp")
        if msg.sent_at is not None:
            # Segment's clock-skew correction: receivedAt - (sentAt - originalTimestamp).
            sent = parse_timestamp(msg.sent_at, "sentAt")
            timestamp = skew_corrected(timestamp, sent, received_at, "originalTimestamp")
    else:
        timestamp = received_at
    if timestamp - received_at > timedelta(days=2):
        raise InvalidEvent("timestamp", "more than two days in the future")

    event = msg.event if msg.type == "track" else TYPE_EVENT_NAMES[msg.type]
    properties = dict(msg.properties or {})
    if msg.type in ("page", "screen") and msg.name:
        properties.setdefault("name", msg.name)
    traits = msg.traits
    if (
        traits is None
        and isinstance(msg.context, dict)
        and isinstance(msg.context.get("traits"), dict)
    ):
        traits = msg.context["traits"]
    stored_properties = _dumps(properties, "properties")
    stored_traits = _dumps(traits, "traits")
    stored_context = _dumps(msg.context, "context")
    message_id = msg.message_id or _content_id(payload)
    return {
        "message_id": message_id,
        "type": msg.type,
        "event": event,
        "name": msg.name,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": msg.previous_id,
        "group_id": msg.group_id,
        "timestamp": timestamp,
        "received_at": received_at,
        "channel": _channel(msg, event),
        "properties": stored_properties,
        "traits": stored_traits,
        "context": stored_context,
        "source": source,
    }


def _content_id(payload: dict[str, Any]) -> str:
    """A message id from the content, so an identical resend without one is stored once."""
    try:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError as exc:  # nesting or integers orjson cannot write
        raise InvalidEvent("message", unstorable(exc)) from None
    digest = hashlib.sha256(text)
    return "c-" + digest.hexdigest()[:32]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
