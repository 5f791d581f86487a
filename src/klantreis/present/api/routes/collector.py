"""The collector: Segment's HTTP Tracking API, so a shop's existing tracking code works as is.

`POST /v1/track|identify|page|screen|group|alias|batch` (and analytics.js's short forms
`/v1/t|i|p|s|g|a` and its batching `/v1/b`). The write key comes as the HTTP Basic user or as
`writeKey` in the body; bodies may be gzip. Limits are Segment's: 32 KB per event, 500 KB per
batch. Valid events of a batch are kept and the invalid ones quarantined with their reason;
the response lists them. 200 is sent only after the writer committed the events.

The handlers read and parse the body themselves with orjson (about twice as fast as `json` on a
100-event batch, see benchmarks/collector.py) and validate each message once with
`canonical_event`, which every way in shares. They are FastAPI routes so they appear in the
OpenAPI description: benchmarks/collector.py mounts the same handler as a plain Starlette route,
and the difference was within the run-to-run noise, so nothing is gained by leaving FastAPI.
"""

from __future__ import annotations

import functools
import json
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.requests import ClientDisconnect

from klantreis.collect import wire
from klantreis.collect.events import InvalidEvent, canonical_event, now_utc, unstorable
from klantreis.collect.ingest import Ingest, Overloaded, WriterStopped
from klantreis.collect.keys import KeyRing
from klantreis.present.api.admission import Admission
from klantreis.present.api.deps import ReadAccess, StoreDep, presented_key
from klantreis.present.api.settings import CollectorSettings
from klantreis.store.query import Query

EVENT_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
RAW_KEEP = 4096
"""Bytes of an invalid message kept in the quarantine (enough to see what was wrong)."""

SINGLE_TYPES = {
    "track": "t",
    "identify": "i",
    "page": "p",
    "screen": "s",
    "group": "g",
    "alias": "a",
}

log = logging.getLogger(__name__)
router = APIRouter(tags=["collector"])


class BadRequest(Exception):
    """A request the client must fix; becomes a 4xx JSON body naming the field or limit."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"success": False, "error": message, **extra}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


async def _read_body(request: Request, limit: int, limit_name: str) -> bytes:
    """The request body, decompressed, refusing anything beyond `limit` bytes early."""
    declared = request.headers.get("content-length")
    too_large = BadRequest(
        400, f"request body is larger than the {limit_name} limit", limit=limit_name
    )
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by the server's body deadline
        raise BadRequest(400, "the request body did not arrive", field="body") from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "deflate"):
        # wbits 47 accepts gzip and zlib; max_length stops a small bomb from inflating past
        # the limit.
        inflater = zlib.decompressobj(47)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise BadRequest(
                400, f"body is not valid {encoding}: {exc}", field="Content-Encoding"
            ) from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise too_large
    elif encoding not in ("", "identity"):
        raise BadRequest(
            415, f"unsupported Content-Encoding {encoding!r}; use gzip", field="Content-Encoding"
        )
    return body


def _parse(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise BadRequest(400, "empty body; send a JSON object", field="body")
    try:
        payload = wire.loads(body)
    except wire.Unreadable as exc:
        raise BadRequest(400, f"malformed JSON: {exc}", field="body") from None
    if not isinstance(payload, dict):
        raise BadRequest(400, "the body must be a JSON object", field="body")
    return payload


def _parse_batch(body: bytes) -> tuple[dict[str, Any], Any]:
    """The batch body and its members; when the body as a whole cannot be read, its members
    are read one by one (`wire.Member`), so one unreadable member is quarantined alone."""
    try:
        payload = _parse(body)
    except BadRequest as whole:
        if not body.strip() or whole.body.get("field") != "body":
            raise
        try:
            return wire.split_batch(body)
        except wire.Unreadable:
            raise whole from None  # the envelope itself is broken: the first error says where
    return payload, payload.get("batch")


def _keyring(request: Request) -> KeyRing:
    keyring: KeyRing | None = request.app.state.keyring
    if keyring is None:
        raise BadRequest(503, "the store is not open")
    return keyring


def _authorized_by_header(request: Request) -> bool:
    """Check a key sent in the headers before a byte of the body is read: a request with an
    unknown key costs no body and no wait. False when the key must come from the body."""
    key = presented_key(request.headers.get("authorization"))
    if key is None:
        return False
    if _keyring(request).lookup(key, "write") is None:
        raise BadRequest(401, "unknown write key", field="writeKey")
    return True


def _authorize_body(request: Request, payload: dict[str, Any]) -> None:
    key = payload.get("writeKey") if isinstance(payload.get("writeKey"), str) else None
    if _keyring(request).lookup(key, "write") is None:
        message = (
            "missing write key: send it as the HTTP Basic user or as writeKey"
            if not key
            else "unknown write key"
        )
        raise BadRequest(401, message, field="writeKey")


def _raw_text(message: Any) -> str:
    """The message as kept in the quarantine; whatever it holds (nesting, huge integers)."""
    if isinstance(message, wire.Member):
        return message.raw[:RAW_KEEP].decode("utf-8", "replace")
    try:
        raw = orjson.dumps(message, default=str)
    except TypeError:
        try:
            raw = json.dumps(message, default=str).encode()
        except (TypeError, ValueError, RecursionError):
            raw = f"<a {type(message).__name__} that cannot be written as JSON>".encode()
    return raw[:RAW_KEEP].decode("utf-8", "replace")


def _quarantine_row(index: int | None, message: Any, exc: InvalidEvent) -> dict[str, Any]:
    raw = _raw_text(message)
    ids = message if isinstance(message, dict) else {}

    def text(name: str) -> str | None:
        value = ids.get(name)
        if not isinstance(value, (str, int, float)):
            return None
        return str(value)[:500]

    return {
        "source": "http",
        "file": None,
        "line": index,
        "column_name": exc.field,
        "reason": exc.reason,
        "raw": raw,
        "message_id": text("messageId"),
        "user_id": text("userId"),
        "anonymous_id": text("anonymousId"),
    }


def _event(
    message: Any, *, received_at: Any, kind: str | None = None, check_size: bool = True
) -> dict[str, Any]:
    """One canonical row; `check_size=False` when the whole body is within the event limit
    (then no message in it can exceed it, and re-serialising each one would cost ~10%)."""
    if check_size and isinstance(message, dict):
        try:
            size = len(orjson.dumps(message, default=str))
        except TypeError as exc:  # nesting or integers orjson cannot write
            raise InvalidEvent("message", unstorable(exc)) from None
        if size > EVENT_LIMIT:
            raise InvalidEvent("message", "event is larger than the 32 KB limit")
    if kind is not None and isinstance(message, dict):
        message = {**message, "type": kind}
    try:
        return canonical_event(message, received_at=received_at, source="http")
    except (InvalidEvent, MemoryError):
        raise
    except Exception as exc:  # never a 5xx for one bad message: it is quarantined instead
        log.warning("message not readable as an event", exc_info=True)
        raise InvalidEvent("message", f"cannot be read as an event ({type(exc).__name__})") from exc


async def _commit(
    request: Request, rows: list[dict[str, Any]], quarantined: list[dict[str, Any]]
) -> None:
    ingest: Ingest | None = request.app.state.ingest
    if ingest is None:
        raise BadRequest(503, "the store is not open")
    try:
        await ingest.submit(rows, quarantined)
    except (Overloaded, WriterStopped):
        raise
    except Exception as exc:  # the commit failed: nothing of this request is acknowledged
        log.exception("could not store %d events", len(rows))
        raise BadRequest(503, f"could not store the events ({type(exc).__name__}); retry") from exc


def _answers_bad_requests(
    handler: Callable[..., Awaitable[Response]],
) -> Callable[..., Awaitable[Response]]:
    """Turn `BadRequest` from anywhere in a handler into its JSON response."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return await handler(*args, **kwargs)
        except BadRequest as exc:
            return _json(exc.status, exc.body)

    return wrapper


def _member_value(member: wire.Member) -> Any:
    """A member of a batch that could not be read as a whole, read on its own."""
    if len(member.raw) > EVENT_LIMIT:
        raise InvalidEvent("message", "event is larger than the 32 KB limit")
    try:
        return member.value()
    except wire.Unreadable as exc:
        raise InvalidEvent("message", f"malformed JSON: {exc}") from None


@_answers_bad_requests
async def _collect_one(request: Request, kind: str) -> Response:
    by_header = _authorized_by_header(request)
    payload = _parse(await _read_body(request, EVENT_LIMIT, "32 KB per event"))
    if not by_header:
        _authorize_body(request, payload)
    try:
        row = _event(payload, received_at=now_utc(), kind=kind, check_size=False)
    except InvalidEvent as exc:
        await _commit(request, [], [_quarantine_row(None, payload, exc)])
        return _json(400, {"success": False, "error": exc.reason, "field": exc.field})
    await _commit(request, [row], [])
    return _json(200, {"success": True})


@dataclass
class ValidatedBatch:
    rows: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


async def validated_batch(request: Request) -> ValidatedBatch:
    """Read, authorise and validate a batch request: everything but storing it (also what
    benchmarks/collector.py times alone, to show what durability costs)."""
    by_header = _authorized_by_header(request)
    body = await _read_body(request, BATCH_LIMIT, "500 KB per batch")
    payload, messages = _parse_batch(body)
    if not by_header:
        _authorize_body(request, payload)
    check_size = len(body) > EVENT_LIMIT
    if not isinstance(messages, list):
        raise BadRequest(400, "batch must be a list of messages", field="batch")
    received_at = now_utc()
    shared = {k: payload[k] for k in ("context", "sentAt", "integrations") if k in payload}
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        try:
            if isinstance(message, wire.Member):
                message = _member_value(message)
            if shared and isinstance(message, dict):
                message = {**shared, **message}
            rows.append(_event(message, received_at=received_at, check_size=check_size))
        except InvalidEvent as exc:
            quarantined.append(_quarantine_row(index, message, exc))
            rejected.append({"index": index, "field": exc.field, "reason": exc.reason})
    return ValidatedBatch(rows, quarantined, rejected)


@_answers_bad_requests
async def collect_batch(request: Request) -> Response:
    """`{"batch": [messages], "context"?, "sentAt"?}`: batch-level context and sentAt apply to
    every message that lacks its own."""
    batch = await validated_batch(request)
    rows, rejected = batch.rows, batch.rejected
    await _commit(request, rows, batch.quarantined)
    if rejected and not rows:
        first = rejected[0]
        return _json(
            400,
            {
                "success": False,
                "error": f"no valid message in the batch; first: {first['reason']}",
                "field": f"batch.{first['index']}.{first['field']}",
                "rejected": rejected,
            },
        )
    body: dict[str, Any] = {"success": True, "stored": len(rows)}
    if rejected:
        body["rejected"] = rejected
    return _json(200, body)


_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A Segment message; userId or anonymousId is required.",
    "properties": {
        "messageId": {"type": "string"},
        "userId": {"type": "string"},
        "anonymousId": {"type": "string"},
        "event": {"type": "string"},
        "name": {"type": "string"},
        "previousId": {"type": "string"},
        "groupId": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "properties": {"type": "object"},
        "traits": {"type": "object"},
        "context": {"type": "object"},
        "writeKey": {"type": "string"},
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored durably"},
    400: {"description": "Invalid body, limit exceeded or invalid message (names the field)"},
    401: {"description": "Unknown or missing write key"},
    415: {"description": "Unsupported Content-Encoding"},
    429: {"description": "Busy; retry after the Retry-After header's seconds"},
}


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _single_route(kind: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _collect_one(request, kind)

    endpoint.__name__ = f"collect_{kind}"
    endpoint.__doc__ = f"One {kind} message (Segment HTTP Tracking API)."
    return endpoint


for _kind, _short in SINGLE_TYPES.items():
    _handler = _single_route(_kind)
    router.add_api_route(
        f"/v1/{_kind}",
        _handler,
        methods=["POST"],
        openapi_extra=_body_doc(_MESSAGE_SCHEMA),
        responses=_RESPONSES,
        response_class=Response,
    )
    router.add_api_route(
        f"/v1/{_short}",
        _handler,
        methods=["POST"],
        include_in_schema=False,
        response_class=Response,
    )

_BATCH_SCHEMA = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": _MESSAGE_SCHEMA},
        "context": {"type": "object"},
        "sentAt": {"type": "string", "format": "date-time"},
        "writeKey": {"type": "string"},
    },
}
router.add_api_route(
    "/v1/batch",
    collect_batch,
    methods=["POST"],
    openapi_extra=_body_doc(_BATCH_SCHEMA),
    responses=_RESPONSES,
    response_class=Response,
)
router.add_api_route(
    "/v1/b", collect_batch, methods=["POST"], include_in_schema=False, response_class=Response
)


def _public_address(request: Request) -> tuple[str, str]:
    """Where browsers should send events: `[collector] public_url` when set (behind a proxy),
    else the address this connection reached. Never the Host header: a client chooses it,
    and a cached settings answer naming another host would send a shop's events there."""
    settings = getattr(request.app.state, "settings", None)
    configured = settings.section(CollectorSettings).public_url if settings else None
    if configured:
        url = urlsplit(str(configured))
        return url.netloc, url.scheme or "https"
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}", request.url.scheme


@router.get("/v1/projects/{write_key}/settings", include_in_schema=False)
async def browser_settings(write_key: str, request: Request) -> Response:
    """What analytics.js fetches from its CDN: sends events back to this server.

    Lets a shop set `cdnURL` (or the snippet's `analytics._cdn`) to klantreis instead of
    editing the Segment.io integration settings by hand.
    """
    keyring: KeyRing | None = request.app.state.keyring
    if keyring is None or keyring.lookup(write_key, "write") is None:
        return _json(404, {"success": False, "error": "unknown write key", "field": "writeKey"})
    netloc, scheme = _public_address(request)
    return _json(
        200,
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": write_key,
                    "apiHost": f"{netloc}/v1",
                    "protocol": scheme,
                }
            },
            "plan": {"track": {"__default": {"enabled": True}}},
            "enabledMiddleware": {},
            "metrics": {"sampleRate": 0},
        },
    )


@router.get("/v1/messages/{message_id}", tags=["collector"])
def stored_message(message_id: str, store: StoreDep, _who: ReadAccess) -> dict[str, Any]:
    """The stored event with this messageId (read key): did my event arrive, and as what?

    Looks in `events` and among the acknowledged events not merged into it yet."""
    rows = store.engine.fetch(
        Query(
            "SELECT * FROM events WHERE message_id = :message_id "
            "UNION ALL SELECT * FROM events_staged WHERE message_id = :message_id",
            message_id=message_id,
        )
    ).to_pylist()
    if not rows:
        raise HTTPException(404, f"no stored event with messageId {message_id!r}")
    return rows[0]


@router.get("/v1/health", tags=["health"])
async def health(request: Request) -> dict[str, Any]:
    """Liveness without authentication: is the store open and the writer running; the commit
    counters show how well group commit is batching (events per commit); queue age, loop lag
    and requests refused with 429 show how far behind the server is. Never refused itself and
    never waits for the writer."""
    ingest: Ingest | None = request.app.state.ingest
    if ingest is None:
        return {"ok": False}
    admission: Admission | None = request.app.state.admission
    return {
        "ok": True,
        "pending": ingest.pending,
        "queue_age_ms": round(ingest.queue_age * 1000),
        "loop_lag_ms": round(admission.loop_lag * 1000) if admission else None,
        "in_flight": admission.in_flight if admission else 0,
        "refused": admission.refused if admission else 0,
        "commits": ingest.commits,
        "events_committed": ingest.rows_committed,
        "merges": ingest.merges,
        "events_merged": ingest.rows_merged,
        "repeats_dropped": ingest.duplicates_dropped,
    }
