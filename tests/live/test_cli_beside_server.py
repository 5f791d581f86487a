"""Every CLI command beside a running `klantreis serve` on the same store, under event load.

The server holds the DuckDB file; commands find `<store>.server.json` and are carried out
inside the server. What must hold: each command succeeds with the output it has without a
server, the collector keeps acknowledging meanwhile, and every acknowledged event is stored
exactly once and is queryable within 2 s.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server, cli, free_port

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.present.api.server_file import ServerFile
from klantreis.present.cli.forward import forward
from klantreis.store import Store, StoreLockedError
from live.load import Load

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=150, seed=5)).iter_batches(20_000):
            kr.store.append(batch)
    return path


@pytest.fixture
def running(shop_store: Path) -> Iterator[Server]:
    server = Server(shop_store).create_keys()
    server.start()
    deadline = time.monotonic() + 10  # the server file follows the first health answer
    while not ServerFile.path_for(shop_store).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield server
    server.stop()


def test_read_commands_print_the_same_with_and_without_the_server(shop_store: Path) -> None:
    commands = [
        ("stats", "--json"),
        ("funnel", "Product Viewed", "Order Completed", "--json"),
        ("expectations", "--json"),
        ("keys", "list"),
    ]
    alone = [cli(*args, store=shop_store, check=True).stdout for args in commands]
    server = Server(shop_store).create_keys()
    server.start()
    try:
        # written once the socket listens, moments after the first health answer
        deadline = time.monotonic() + 10
        while not ServerFile.path_for(shop_store).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ServerFile.path_for(shop_store).exists()
        beside = [cli(*args, store=shop_store, check=True).stdout for args in commands[:3]]
        keys = cli("keys", "list", store=shop_store, check=True).stdout
    finally:
        server.stop()
    assert beside == alone[:3]
    assert "shop" in keys and "analyst" in keys
    assert not ServerFile.path_for(shop_store).exists(), "the server removes its file on exit"


def test_every_command_works_beside_a_server_under_load(running: Server, tmp_path: Path) -> None:
    store = running.store
    out = tmp_path / "map.html"
    with Load(running) as load:
        steps = [
            ("stats",),
            ("map", "--out", str(out)),
            ("expectations",),
            ("keys", "create", "--name", "leaked"),
            ("keys", "list"),
            ("users", "create", "anna", "--locale", "nl"),  # password from the environment
            ("users", "list"),
            ("model", "build"),
            ("export", "load-person"),
            ("personas", "discover", "--k", "3"),
            ("alerts", "check"),
        ]
        results = {}
        for args in steps:
            env = {"KLANTREIS_USER_PASSWORD": "a-long-password-1"}
            results[args] = cli(*args, store=store, env=env, timeout=300)
        sent_during = len(load.acknowledged)
    failed = {" ".join(a): r.stderr[-500:] for a, r in results.items() if r.returncode != 0}
    assert not failed
    assert "leaked" in results[("keys", "list")].stdout
    assert "anna" in results[("users", "list")].stdout
    assert sent_during > 0 and load.refused == 0
    assert load.slowest < 5, f"an event batch waited {load.slowest:.1f} s for its answer"

    # Acknowledged = stored, once each, and visible within 2 s of the last acknowledgement.
    last = load.acknowledged[-1]
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{running.url}/v1/messages/{last}", auth=(running.read_key, ""), timeout=5
        )
        if found.status_code == 200:
            break
        time.sleep(0.1)
    assert found.status_code == 200
    running.stop()
    rows = running.stored("SELECT message_id, count(*) FROM events GROUP BY 1")
    counts = {mid: n for mid, n in rows if mid.startswith("live-")}
    assert set(load.acknowledged) <= set(counts)
    assert all(n == 1 for n in counts.values())


def test_paths_on_the_command_line_are_the_callers(running: Server, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "klantreis.present.cli.app", "map", "--out", "here.html"],
        cwd=tmp_path,
        env={**running.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here.html").exists()


def test_the_admin_channel_wants_the_token(running: Server) -> None:
    body = {"argv": ["stats"]}
    assert httpx.post(f"{running.url}/admin/cli", json=body, timeout=30).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    response = httpx.post(f"{running.url}/admin/cli", json=body, headers=wrong, timeout=30)
    assert response.status_code == 403
    token = json.loads(ServerFile.path_for(running.store).read_text())["token"]
    right = {"Authorization": f"Bearer {token}"}
    response = httpx.post(f"{running.url}/admin/cli", json=body, headers=right, timeout=60)
    assert response.status_code == 200 and response.json()["exit_code"] == 0
    serve = {"argv": ["serve"]}
    response = httpx.post(f"{running.url}/admin/cli", json=serve, headers=right, timeout=30)
    assert response.status_code == 409
    assert (ServerFile.path_for(running.store).stat().st_mode & 0o777) == 0o600


def test_a_second_serve_on_the_same_store_is_refused(running: Server) -> None:
    result = cli("serve", "--port", "0", store=running.store, timeout=120)
    assert result.returncode == 2
    assert "open in another klantreis process" in result.stderr


def _locked(store: Path) -> StoreLockedError:
    """The error a command gets on opening the store another process holds (DuckDB's own)."""
    with pytest.raises(StoreLockedError) as caught:
        Store(store)
    return caught.value


def _forward(argv: list[str], error: StoreLockedError, **wait: float) -> tuple[int | None, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = forward(argv, error, **wait)
    return code, out.getvalue()


def test_a_command_waits_for_the_server_to_say_where_it_listens(running: Server) -> None:
    """The server takes the store before its socket listens and writes its file only then:
    a command in between (a loaded machine stretches that to seconds) waits for the file
    rather than saying the store is locked."""
    path = ServerFile.path_for(running.store)
    aside = path.with_name(path.name + ".aside")
    error = _locked(running.store)
    path.rename(aside)
    answered: list[tuple[int | None, str]] = []
    try:
        asking = threading.Thread(
            target=lambda: answered.append(_forward(["stats", "--json"], error))
        )
        asking.start()
        time.sleep(1)  # the command looks while there is no file
    finally:
        aside.rename(path)
    asking.join(300)
    assert answered, "the command did not end"
    code, output = answered[0]
    assert code == 0, output
    assert json.loads(output), output
    assert running.proc is not None and error.holder == running.proc.pid, "DuckDB names it"


def test_a_server_that_does_not_answer_is_named(tmp_path: Path) -> None:
    """A server file naming a live process whose address takes no connection: after the wait
    the command says which server did not answer (not that no server holds the store)."""
    store = tmp_path / "shop.duckdb"
    Store(store).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(store)!r}); "
            "print(1, flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline()
        error = _locked(store)
        silent = ServerFile(holder.pid, f"http://127.0.0.1:{free_port()}", "t", str(store))
        silent.write()
        code, output = _forward(["stats"], error, wait=1)
        assert code == 2
        assert f"the server that holds {store} (process {holder.pid}" in output
        assert "did not answer within 1 s" in output
        ServerFile.path_for(store).unlink()
        # a holder that is not a server: the command is not forwarded and does not wait
        assert _forward(["stats"], error, wait=600) == (None, "")
    finally:
        holder.communicate(b"", timeout=60)
