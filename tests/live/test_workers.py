"""`klantreis serve --workers 2`: HTTP workers in front of one writer, under real HTTP load.

What must hold: every acknowledged event is stored exactly once while several clients send at
once (repeats included); killing a worker loses nothing acknowledged and another one takes its
place; the read API, the dashboard and CLI commands beside the server work through it; SIGTERM
drains the workers and the writer and leaves no process, socket or server file behind.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import NO_WARM_UP, Server, cli

from klantreis.present.api.server_file import ServerFile, read_server_file

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


class Senders:
    """Several clients sending batches at once; each batch is sent twice now and then (a
    client's retry), so "exactly once" is tested, not assumed. Connection errors (a worker
    killed under a client) are retried like an SDK does."""

    def __init__(self, server: Server, clients: int = 4) -> None:
        self.server = server
        self.acknowledged: list[str] = []
        self.acknowledged_at: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def __enter__(self) -> Senders:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.server.url, auth=(self.server.write_key, "")) as http:
            sent = 0
            while not self._stop.is_set():
                ids = [f"w-{uuid.uuid4().hex}" for _ in range(25)]
                batch = [
                    {"type": "track", "event": "Product Viewed", "userId": "u", "messageId": m}
                    for m in ids
                ]
                for _ in range(2 if sent % 5 == 0 else 1):
                    try:
                        response = http.post("/v1/batch", json={"batch": batch}, timeout=30)
                    except httpx.TransportError:
                        with self._lock:
                            self.errors += 1
                        continue
                    with self._lock:
                        code = response.status_code
                        self.statuses[code] = self.statuses.get(code, 0) + 1
                        if code == 200:
                            self.acknowledged.extend(ids)
                            self.acknowledged_at.append(time.monotonic())
                sent += 1


def _stored_once(server: Server, acknowledged: list[str]) -> None:
    rows = server.stored("SELECT message_id, count(*) FROM events GROUP BY 1")
    counts = {mid: n for mid, n in rows if mid.startswith("w-")}
    assert acknowledged, "nothing was acknowledged: the test proved nothing"
    missing = set(acknowledged) - set(counts)
    assert not missing, f"{len(missing)} acknowledged events are not stored"
    assert all(n == 1 for n in counts.values()), "an event is stored twice"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "shop.duckdb", config=NO_WARM_UP, args=["--workers", "2"])
    server.create_keys()
    server.start()
    deadline = time.monotonic() + 20
    while len(_children(server.proc.pid)) < 2 or not ServerFile.path_for(server.store).exists():
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    yield server
    server.stop()


def test_every_acknowledged_event_is_stored_once_under_concurrent_load(workers: Server) -> None:
    assert len(_children(workers.proc.pid)) == 2  # two HTTP processes besides the writer
    with Senders(workers, clients=6) as senders:
        deadline = time.monotonic() + 60  # a busy machine acknowledges slowly
        while len(senders.acknowledged_at) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
    workers.stop()
    assert len(senders.acknowledged_at) >= 40, senders.statuses
    _stored_once(workers, senders.acknowledged)


def test_killing_a_worker_loses_no_acknowledged_event(workers: Server) -> None:
    first = _children(workers.proc.pid)
    victim = min(first)
    with Senders(workers, clients=4) as senders:
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + 30
        while True:  # another worker takes the victim's place
            now = _children(workers.proc.pid)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, "no worker replaced the killed one"
            time.sleep(0.1)
        time.sleep(1.5)
    workers.stop()
    assert any(t > killed_at for t in senders.acknowledged_at), "nothing acknowledged after"
    # The new worker knew the write keys before it took its first request.
    assert 401 not in senders.statuses, senders.statuses
    _stored_once(workers, senders.acknowledged)


def test_read_api_dashboard_and_cli_work_through_the_workers(workers: Server) -> None:
    message_id = f"w-{uuid.uuid4().hex}"
    sent = httpx.post(
        f"{workers.url}/v1/track",
        auth=(workers.write_key, ""),
        json={"event": "Product Viewed", "userId": "reader", "messageId": message_id},
    )
    assert sent.status_code == 200, sent.text
    found = httpx.get(
        f"{workers.url}/v1/messages/{message_id}",
        headers={"Authorization": f"Bearer {workers.read_key}"},
    )
    assert found.status_code == 200, found.text
    assert found.json()["user_id"] == "reader"
    assert httpx.get(f"{workers.url}/v1/messages/{message_id}").status_code == 401
    login = httpx.get(f"{workers.url}/login")
    assert login.status_code == 200 and "<form" in login.text
    assert httpx.get(f"{workers.url}/openapi.json").json()["paths"]["/v1/batch"]
    health = httpx.get(f"{workers.url}/v1/health").json()
    assert health["ok"] and health["events_committed"] >= 1  # the writer's counters
    assert health["worker"]["pid"] in _children(workers.proc.pid)  # and the worker's own

    # A key made beside the server reaches the workers, and a revoked one is refused there.
    made = cli("keys", "create", "--name", "later", store=workers.store, check=True)
    key = made.stdout.strip()
    body = {"batch": [{"type": "track", "event": "E", "userId": "u"}]}
    deadline = time.monotonic() + 5
    while httpx.post(f"{workers.url}/v1/batch", auth=(key, ""), json=body).status_code != 200:
        assert time.monotonic() < deadline, "a new key never reached the workers"
        time.sleep(0.1)
    cli("keys", "revoke", "later", store=workers.store, check=True)
    deadline = time.monotonic() + 5
    while httpx.post(f"{workers.url}/v1/batch", auth=(key, ""), json=body).status_code != 401:
        assert time.monotonic() < deadline, "a revoked key is still accepted"
        time.sleep(0.1)
    listed = cli("keys", "list", store=workers.store, check=True)
    assert "later" in listed.stdout


def test_the_writer_believes_forwarded_addresses_only_from_its_workers(workers: Server) -> None:
    server_file = read_server_file(workers.store)
    assert server_file is not None
    # The admin channel is the writer's own loopback port; claiming to be a worker without its
    # token changes nothing (still this loopback client), and with a wrong token a remote
    # address is not believed either.
    forged = httpx.post(
        f"{server_file.url}/admin/cli",
        headers={
            "Authorization": f"Bearer {server_file.token}",
            "x-klantreis-worker": "guess",
            "x-klantreis-client": "203.0.113.9|4444",
        },
        json={"argv": ["keys", "list"]},
    )
    assert forged.status_code == 200 and forged.json()["exit_code"] == 0
    # Through a worker the admin channel still sees the (loopback) caller.
    through = httpx.post(
        f"{workers.url}/admin/cli",
        headers={"Authorization": f"Bearer {server_file.token}"},
        json={"argv": ["keys", "list"]},
    )
    assert through.status_code == 200 and "shop" in through.json()["stdout"]


def test_sigterm_drains_workers_and_writer(workers: Server) -> None:
    writer = workers.proc.pid
    children = _children(writer)
    with Senders(workers, clients=4) as senders:
        time.sleep(2)
        proc = workers.proc
        workers.stop()  # SIGTERM while batches are in flight
    assert proc.returncode in (0, -signal.SIGTERM)
    assert not any(_alive(pid) for pid in children)
    assert not ServerFile.path_for(workers.store).exists()
    _stored_once(workers, senders.acknowledged)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def _guesses(server: Server, prefix: str) -> list[int]:
    """Wrong passwords, each claiming another X-Forwarded-For address."""
    statuses = []
    with httpx.Client(base_url=server.url) as client:
        for n in range(4):
            page = client.get("/login")
            response = client.post(
                "/login",
                data={
                    "username": f"{prefix}{n}",
                    "password": "guess",
                    "csrf_token": _csrf(page.text),
                },
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            statuses.append(response.status_code)
    return statuses


def test_logins_and_their_limit_per_address_pass_through_the_workers(tmp_path: Path) -> None:
    store = tmp_path / "shop.duckdb"
    limited = NO_WARM_UP.replace("[web]\n", '[web]\nlogin_limit_per_address = "3/1minute"\n')
    server = Server(store, config=limited, args=["--workers", "2"]).start()
    try:
        made = cli(
            "users", "create", "anna", store=store, env={"KLANTREIS_USER_PASSWORD": "a-long-pass-1"}
        )
        assert made.returncode == 0, made.stderr[-500:]
        with httpx.Client(base_url=server.url) as client:
            page = client.get("/login")
            form = {"username": "anna", "password": "a-long-pass-1", "csrf_token": _csrf(page.text)}
            answer = client.post("/login", data={**form, "next": "/settings"})
            assert answer.status_code == 303 and answer.headers["location"] == "/settings"
            settings_page = client.get("/settings")  # with the session cookie the login set
            assert settings_page.status_code == 200 and "anna" in settings_page.text
        # The writer counts the worker's client, not the worker, and no X-Forwarded-For.
        assert _guesses(server, "a") == [401, 401, 401, 429]
    finally:
        server.stop()
    # Behind a configured proxy each forwarded address has its own count, through the hop too.
    trusted = limited.replace("[web]\n", '[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    server = Server(store, config=trusted, args=["--workers", "2"]).start()
    try:
        assert _guesses(server, "b") == [401, 401, 401, 401]
    finally:
        server.stop()
