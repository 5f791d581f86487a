"""The collector's HTTP contract against a real server: Segment paths, keys, limits, errors."""

from __future__ import annotations

import gzip
import uuid

import httpx
import orjson
import pytest
from servers import Server


def mid() -> str:
    return f"test-{uuid.uuid4().hex}"


def post(server: Server, path: str, body: object, **kwargs: object) -> httpx.Response:
    kwargs.setdefault("auth", (server.write_key, ""))
    return httpx.post(f"{server.url}{path}", content=orjson.dumps(body), timeout=10, **kwargs)


def stored(server: Server, message_id: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/messages/{message_id}",
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("path", "body", "event"),
    [
        ("/v1/track", {"event": "Product Viewed", "properties": {"sku": "A1"}}, "Product Viewed"),
        ("/v1/identify", {"traits": {"email": "a@example.com"}}, "Identify"),
        ("/v1/page", {"name": "Home"}, "Page Viewed"),
        ("/v1/screen", {"name": "Cart"}, "Screen Viewed"),
        ("/v1/group", {"groupId": "g1"}, None),
        ("/v1/alias", {"previousId": "anon-1"}, None),
        ("/v1/t", {"event": "Cart Viewed"}, "Cart Viewed"),
    ],
)
def test_each_message_type_is_stored_and_queryable_at_once(
    server: Server, path: str, body: dict, event: str | None
) -> None:
    message_id = mid()
    response = post(server, path, {**body, "userId": "u-1", "messageId": message_id})
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    row = stored(server, message_id)  # right after the 200: acknowledged means committed
    assert row.status_code == 200, row.text
    assert row.json()["user_id"] == "u-1"
    assert row.json()["source"] == "http"
    if event:
        assert row.json()["event"] == event


def test_odd_but_valid_context_is_stored(server: Server) -> None:
    message_id = mid()
    body = {"userId": "u", "event": "E", "messageId": message_id, "context": {"library": "x"}}
    assert post(server, "/v1/track", body).status_code == 200
    assert stored(server, message_id).json()["channel"] == "web"


def test_write_key_in_body_and_bearer(server: Server) -> None:
    one, two = mid(), mid()
    body = {"writeKey": server.write_key, "anonymousId": "a", "event": "X", "messageId": one}
    assert post(server, "/v1/track", body, auth=None).status_code == 200
    bearer = {"Authorization": f"Bearer {server.write_key}"}
    body = {"anonymousId": "a", "event": "X", "messageId": two}
    assert post(server, "/v1/track", body, auth=None, headers=bearer).status_code == 200
    assert stored(server, one).status_code == 200
    assert stored(server, two).status_code == 200


def test_gzip_batch(server: Server) -> None:
    ids = [mid() for _ in range(3)]
    batch = {"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": i} for i in ids]}
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(orjson.dumps(batch)),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        auth=(server.write_key, ""),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert all(stored(server, i).status_code == 200 for i in ids)


def test_repeated_message_id_is_stored_once(server: Server) -> None:
    message_id = mid()
    body = {"userId": "u", "event": "Order Completed", "messageId": message_id}
    for _ in range(3):
        assert post(server, "/v1/track", body).status_code == 200
    batch = {"batch": [{**body, "type": "track"}, {**body, "type": "track"}]}
    assert post(server, "/v1/batch", batch).status_code == 200
    assert stored(server, message_id).status_code == 200  # counted after the server stops


@pytest.mark.parametrize(
    ("auth", "headers", "body_key"),
    [
        (("krw_not-a-key", ""), {}, None),
        (None, {}, None),
        (None, {}, "krw_wrong"),
        (None, {"Authorization": "Basic !!!not-base64"}, None),
    ],
)
def test_unknown_or_missing_write_key_is_401(
    server: Server, auth: tuple[str, str] | None, headers: dict, body_key: str | None
) -> None:
    body: dict = {"userId": "u", "event": "E"}
    if body_key:
        body["writeKey"] = body_key
    response = post(server, "/v1/track", body, auth=auth, headers=headers)
    assert response.status_code == 401
    assert response.json()["field"] == "writeKey"


def test_read_key_is_not_a_write_key(server: Server) -> None:
    response = post(server, "/v1/track", {"userId": "u", "event": "E"}, auth=(server.read_key, ""))
    assert response.status_code == 401


def test_read_route_needs_a_read_key(server: Server) -> None:
    url = f"{server.url}/v1/messages/whatever"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, auth=(server.write_key, "")).status_code == 401
    assert httpx.get(url, auth=(server.read_key, "")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "E"}, "userId"),
        ({"userId": "u", "event": "E", "timestamp": "yesterday"}, "timestamp"),
        ({"userId": "u", "event": "E", "timestamp": "2026-13-45T00:00:00Z"}, "timestamp"),
        ({"userId": "u"}, "event"),
        ({"userId": "u", "event": "E", "properties": [1, 2]}, "properties"),
        ({"userId": "u", "event": "E", "timestamp": 1e20}, "timestamp"),
        ({"userId": "u", "event": "E", "timestamp": "9999-12-31T23:59:59+14:00"}, "timestamp"),
    ],
)
def test_invalid_event_is_400_naming_the_field(server: Server, body: dict, field: str) -> None:
    response = post(server, "/v1/track", body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("content", "field"),
    [(b'{"userId": "u", "event": ', "body"), (b"[1, 2]", "body"), (b"", "body")],
)
def test_malformed_json_is_400(server: Server, content: bytes, field: str) -> None:
    response = httpx.post(
        f"{server.url}/v1/track", content=content, auth=(server.write_key, ""), timeout=10
    )
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_bad_gzip_is_400(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=b"definitely not gzip",
        headers={"Content-Encoding": "gzip"},
        auth=(server.write_key, ""),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Content-Encoding"


def test_event_over_32kb_is_400_naming_the_limit(server: Server) -> None:
    body = {"userId": "u", "event": "E", "properties": {"blob": "x" * 33_000}}
    response = post(server, "/v1/track", body)
    assert response.status_code == 400
    assert "32 KB" in response.json()["limit"]


def test_batch_over_500kb_is_400_naming_the_limit(server: Server) -> None:
    message = {"type": "track", "userId": "u", "event": "E", "properties": {"b": "x" * 20_000}}
    response = post(server, "/v1/batch", {"batch": [message] * 30})
    assert response.status_code == 400
    assert "500 KB" in response.json()["limit"]


def test_gzip_bomb_over_the_limit_is_400(server: Server) -> None:
    body = b'{"batch": [' + b" " * 2_000_000 + b"]}"
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(body),
        headers={"Content-Encoding": "gzip"},
        auth=(server.write_key, ""),
        timeout=10,
    )
    assert response.status_code == 400
    assert "500 KB" in response.json()["limit"]


def test_batch_keeps_valid_events_and_names_the_rejected(server: Server) -> None:
    good, oversized = mid(), mid()
    batch = {
        "batch": [
            {"type": "track", "userId": "u", "event": "Good", "messageId": good},
            {"type": "track", "event": "No person", "messageId": mid()},
            "not an object",
            {"type": "identify", "userId": "u", "timestamp": "nope"},
            {
                "type": "track",
                "userId": "u",
                "event": "Big",
                "messageId": oversized,
                "properties": {"b": "x" * 33_000},
            },
            {"type": "launch", "userId": "u"},
        ]
    }
    response = post(server, "/v1/batch", batch)
    assert response.status_code == 200, response.text
    rejected = {r["index"]: r["field"] for r in response.json()["rejected"]}
    assert rejected == {1: "userId", 2: "message", 3: "timestamp", 4: "message", 5: "type"}
    assert stored(server, good).status_code == 200
    assert stored(server, oversized).status_code == 404


def test_batch_with_only_invalid_events_is_400(server: Server) -> None:
    response = post(server, "/v1/batch", {"batch": [{"type": "track", "event": "E"}]})
    assert response.status_code == 400
    assert response.json()["field"] == "batch.0.userId"


def test_batch_must_be_a_list(server: Server) -> None:
    response = post(server, "/v1/batch", {"batch": {"type": "track"}})
    assert response.status_code == 400
    assert response.json()["field"] == "batch"


def test_batch_context_and_sent_at_apply_to_messages(server: Server) -> None:
    message_id = mid()
    batch = {
        "batch": [
            {
                "type": "track",
                "userId": "u",
                "event": "E",
                "messageId": message_id,
                "originalTimestamp": "2026-01-01T10:00:00Z",
            }
        ],
        "sentAt": "2026-01-01T10:00:05Z",
        "context": {"library": {"name": "analytics-python"}},
    }
    assert post(server, "/v1/batch", batch).status_code == 200
    row = stored(server, message_id).json()
    assert "analytics-python" in row["context"]


def test_cors_preflight_and_response_headers(server: Server) -> None:
    origin = {"Origin": "https://shop.example"}
    preflight = httpx.options(
        f"{server.url}/v1/t",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    response = post(server, "/v1/track", {"userId": "u", "event": "E"}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"


def test_health_needs_no_key(server: Server) -> None:
    response = httpx.get(f"{server.url}/v1/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_unsupported_content_encoding_is_415(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v1/track",
        content=b"{}",
        headers={"Content-Encoding": "br"},
        auth=(server.write_key, ""),
        timeout=10,
    )
    assert response.status_code == 415
    assert response.json()["field"] == "Content-Encoding"


def test_browser_settings_point_back_at_the_collector(server: Server) -> None:
    url = f"{server.url}/v1/projects/{server.write_key}/settings"
    settings = httpx.get(url, timeout=10).json()["integrations"]["Segment.io"]
    assert settings["apiHost"] == f"127.0.0.1:{server.port}/v1"
    assert settings["protocol"] == "http"
    assert httpx.get(f"{server.url}/v1/projects/krw_nope/settings").status_code == 404
