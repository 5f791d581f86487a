"""One bad member never costs its batch: it is quarantined with a reason, the rest stored, and
the answer is never a 5xx, whatever the nesting, key count, string or number sizes. Also the
odd values a message may carry: a skewed clock, a blank userId, integers beyond 64 bits."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import Server


def valid(tag: str, i: int) -> bytes:
    return orjson.dumps(
        {"type": "track", "userId": f"u-{i}", "event": "Product Viewed", "messageId": f"{tag}-{i}"}
    )


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def member(properties: bytes, message_id: str) -> bytes:
    head = b'{"type": "track", "userId": "u", "event": "Odd", "messageId": "%s", ' % (
        message_id.encode()
    )
    return head + b'"properties": ' + properties + b"}"


def post_batch(server: Server, members: list[bytes]) -> httpx.Response:
    body = b'{"batch": [' + b", ".join(members) + b"]}"
    return httpx.post(
        f"{server.url}/v1/batch", content=body, auth=(server.write_key, ""), timeout=30
    )


def stored_ids(server: Server, ids: list[str]) -> list[str]:
    headers = {"Authorization": f"Bearer {server.read_key}"}
    with httpx.Client(headers=headers, timeout=10) as client:
        return [i for i in ids if client.get(f"{server.url}/v1/messages/{i}").status_code == 200]


@pytest.mark.parametrize("depth", [100, 300, 600, 1023, 1100, 5000])
def test_a_deeply_nested_member_is_rejected_and_the_other_50_stored(
    server: Server, depth: int
) -> None:
    tag = f"deep{depth}-{uuid.uuid4().hex[:8]}"
    members = [valid(tag, i) for i in range(51)]
    members[25] = member(b'{"tree": ' + nested(depth) + b"}", f"{tag}-bad")
    response = post_batch(server, members)
    assert response.status_code == 200, response.text
    body = response.json()
    if depth < 250:  # within what the store can hold as JSON: simply stored
        assert body["stored"] == 51
        return
    assert body["stored"] == 50
    [rejected] = body["rejected"]
    assert rejected["index"] == 25
    assert rejected["field"] in ("properties", "message")
    assert "nested" in rejected["reason"] or "depth" in rejected["reason"]
    good = [f"{tag}-{i}" for i in range(51) if i != 25]
    assert stored_ids(server, good) == good


NUMBERS = [b"9223372036854775807", b"18446744073709551615", b"1.5e300", b"-0.0"]
TOO_BIG = [b"18446744073709551616", b"-9223372036854775809", b"1" + b"0" * 400, b"1e400"]

odd_properties = st.tuples(
    st.integers(0, 1500),  # nesting depth
    st.integers(0, 4000),  # key count
    st.integers(0, 40_000),  # string length
    st.sampled_from(NUMBERS + TOO_BIG),
)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(odd=st.lists(odd_properties, min_size=1, max_size=3))
def test_fuzzed_members_are_stored_or_quarantined_never_a_5xx(
    server: Server, odd: list[tuple[int, int, int, bytes]]
) -> None:
    tag = f"fuzz-{uuid.uuid4().hex[:8]}"
    members = [valid(tag, i) for i in range(5)]
    odd_ids = []
    for n, (depth, keys, length, number) in enumerate(odd):
        many = b", ".join(b'"k%d": %d' % (k, k) for k in range(keys))
        properties = b'{"deep": %s, "keys": {%s}, "text": "%s", "n": %s}' % (
            nested(depth),
            many,
            b"x" * length,
            number,
        )
        odd_ids.append(f"{tag}-odd{n}")
        members.insert(2 * n + 1, member(properties, odd_ids[-1]))
    response = post_batch(server, members)
    assert response.status_code == 200, response.text
    body = response.json()
    rejected = body.get("rejected", [])
    assert body["stored"] + len(rejected) == len(members)
    assert all(r["field"] and r["reason"] for r in rejected)
    good = [f"{tag}-{i}" for i in range(5)]
    assert stored_ids(server, good) == good
    for n, (depth, _keys, _length, number) in enumerate(odd):
        is_rejected = any(r["index"] == 2 * n + 1 for r in rejected)
        if number in TOO_BIG or depth > 260:
            assert is_rejected, (depth, number)


def test_an_integer_beyond_64_bits_is_not_silently_a_float(server: Server) -> None:
    tag = f"bigint-{uuid.uuid4().hex[:8]}"
    big = b"123456789012345678901234567890"
    response = post_batch(
        server,
        [
            member(b'{"order": ' + big + b"}", f"{tag}-props"),
            valid(tag, 0),
            b'{"type": "track", "userId": '
            + big
            + b', "event": "E", "messageId": "%s-id"}' % tag.encode(),
        ],
    )
    assert response.status_code == 200, response.text
    [rejected] = response.json()["rejected"]
    assert (rejected["index"], rejected["field"]) == (0, "properties")
    assert "64-bit" in rejected["reason"]
    row = httpx.get(
        f"{server.url}/v1/messages/{tag}-id",
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=10,
    ).json()
    assert row["user_id"] == big.decode()  # an id keeps every digit


def track(server: Server, body: dict) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/track",
        content=orjson.dumps({"event": "E", **body}),
        auth=(server.write_key, ""),
        timeout=10,
    )


def test_a_skewed_clock_cannot_yield_a_year_before_1990(server: Server) -> None:
    # sentAt decades ahead of originalTimestamp: the correction lands in the 1850s.
    response = track(
        server,
        {
            "userId": "u",
            "originalTimestamp": "2026-11-20T10:00:00Z",
            "sentAt": "2199-11-20T10:00:00Z",
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "originalTimestamp"
    assert "clock-skew" in response.json()["error"]


@pytest.mark.parametrize("blank", ["   ", "\t\n", ""])
def test_a_blank_user_id_is_no_user_id(server: Server, blank: str) -> None:
    response = track(server, {"userId": blank})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "userId"
    message_id = f"blank-{uuid.uuid4().hex}"
    response = track(server, {"userId": blank, "anonymousId": "anon-1", "messageId": message_id})
    assert response.status_code == 200
    row = httpx.get(
        f"{server.url}/v1/messages/{message_id}",
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=10,
    ).json()
    assert row["user_id"] is None  # not one person "   " for everyone who sends it
    assert row["anonymous_id"] == "anon-1"


def test_the_host_header_is_not_echoed_into_api_host(server: Server) -> None:
    url = f"{server.url}/v1/projects/{server.write_key}/settings"
    answer = httpx.get(url, headers={"Host": "evil.example"}, timeout=10).json()
    settings_ = answer["integrations"]["Segment.io"]
    assert settings_["apiHost"] == f"127.0.0.1:{server.port}/v1"
    assert "evil" not in orjson.dumps(answer).decode()


def test_public_url_names_api_host(make_server) -> None:
    server: Server = make_server('[collector]\npublic_url = "https://collect.example.nl"\n')
    server.write_key = server.create_key("shop")
    server.start()
    url = f"{server.url}/v1/projects/{server.write_key}/settings"
    settings_ = httpx.get(url, headers={"Host": "evil.example"}, timeout=10).json()
    assert settings_["integrations"]["Segment.io"]["apiHost"] == "collect.example.nl/v1"
    assert settings_["integrations"]["Segment.io"]["protocol"] == "https"


def test_bad_members_are_in_the_quarantine_with_their_reason(make_server) -> None:
    server: Server = make_server()
    server.write_key = server.create_key("shop")
    server.start()
    members = [valid("q", 0), member(nested(300), "q-deep"), b"1e400", valid("q", 1)]
    response = post_batch(server, members)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2
    server.stop()
    rows = server.stored("SELECT line, column_name, reason, raw, message_id FROM quarantine")
    by_line = {row[0]: row for row in sorted(rows)}
    assert set(by_line) == {1, 2}
    assert by_line[1][4] == "q-deep"
    assert "nested" in by_line[1][2]
    assert by_line[1][3].startswith('{"type"')
    assert by_line[2][1] == "message"
    assert "malformed JSON" in by_line[2][2]
    assert by_line[2][3] == "1e400"
    assert len(server.stored()) == 2
