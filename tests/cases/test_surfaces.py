"""The inbox and recovery from the CLI (as a user runs it) and the REST API (a real server):
reads need a read key, changes a write key; bad input is a clear error naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from case_story import SHOP
from servers import Server, cli, forwarded
from stories import story

import klantreis
from klantreis.measure.voice.stored import update_voice


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("surfaces") / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(story(SHOP))
        update_voice(kr.store, kr.engine, retrain=False)
    return path


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    opened = cli("cases", "open", "--json", store=store, check=True)
    assert json.loads(opened.stdout)["opened"]["delivery_breach"] == 1
    running = Server(store, config="[web]\nwarm = false\n[routine]\nenabled = false\n")
    running.create_keys().start()
    yield running
    running.stop()


def test_the_cli_lists_shows_assigns_and_resolves(server: Server, store: Path) -> None:
    env = server.env
    listed = cli("cases", "list", "--kind", "breach", "--json", store=store, env=env, check=True)
    ids = [c["case_id"] for c in json.loads(listed.stdout)]
    late = next(i for i in ids if i.startswith("delivery_breach:"))
    # The next commands as the CLI process above sent its command to the server (it holds
    # the store), from this process: a new process per command cost seconds of imports each.
    taken = forwarded("cases", "assign", late, "--to", "anna", "--json", server=server)
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout)[0]["status"] == "in_progress"
    closed = forwarded("cases", "resolve", late, "--note", "refunded the shipping", server=server)
    assert closed.returncode == 0, closed.stderr
    assert "resolved" in closed.stdout
    shown = forwarded("cases", "show", late, server=server)
    assert shown.returncode == 0, shown.stderr
    assert "refunded the shipping" in shown.stdout and "owner: anna" in shown.stdout
    unknown = forwarded("cases", "show", "nope", server=server)
    assert unknown.returncode == 2 and "error: case_id: no case 'nope'" in unknown.stderr
    bad = forwarded("cases", "list", "--status", "done", server=server)
    assert bad.returncode == 2 and "status: 'done' is not one of" in bad.stderr
    recovery = forwarded("recovery", "--json", server=server)
    assert recovery.returncode == 0, recovery.stderr
    assert json.loads(recovery.stdout)["horizon_days"] == 90


def test_reads_need_a_read_key_and_changes_a_write_key(server: Server) -> None:
    url = server.url
    read = {"Authorization": f"Bearer {server.read_key}"}
    write = {"Authorization": f"Bearer {server.write_key}"}
    assert httpx.get(f"{url}/api/cases").status_code == 401
    cases = httpx.get(f"{url}/api/cases", params={"kind": "detractor"}, headers=read).json()
    (detractor,) = cases
    case_url = f"{url}/api/cases/{detractor['case_id']}"
    assert httpx.get(case_url, headers=read).json()["person_id"] == "ben"
    body = {"owner": "bas", "note": "will call"}
    assert httpx.post(f"{case_url}/assign", json=body, headers=read).status_code == 401
    taken = httpx.post(f"{case_url}/assign", json=body, headers=write)
    assert taken.status_code == 200, taken.text
    assert taken.json()["notes"][0] == {
        "at": taken.json()["notes"][0]["at"],
        "by": "key:shop",
        "text": "assigned to bas",
    }
    noted = httpx.post(f"{case_url}/notes", json={"note": "no answer"}, headers=write)
    assert noted.json()["notes"][-1]["text"] == "no answer"


def test_bulk_resolve_and_clear_errors(server: Server) -> None:
    url, write = server.url, {"Authorization": f"Bearer {server.write_key}"}
    read = {"Authorization": f"Bearer {server.read_key}"}
    active = httpx.get(f"{url}/api/cases?status=open&kind=negative_text", headers=read).json()
    ids = [c["case_id"] for c in active]
    done = httpx.post(
        f"{url}/api/cases/resolve",
        json={"case_ids": ids, "outcome": "no_action", "note": "spam"},
        headers=write,
    )
    assert done.status_code == 200 and {c["status"] for c in done.json()} == {"no_action"}
    unknown = httpx.post(f"{url}/api/cases/nope/assign", json={"owner": "x"}, headers=write)
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "case_id" and "no case 'nope'" in unknown.json()["error"]
    empty = httpx.post(f"{url}/api/cases/{ids[0]}/assign", json={"owner": ""}, headers=write)
    assert empty.status_code == 422 and empty.json()["field"] == "owner"
    again = httpx.post(f"{url}/api/cases/{ids[0]}/resolve", json={}, headers=write)
    assert again.status_code == 400 and "already no_action" in again.json()["error"]
    filtered = httpx.get(f"{url}/api/cases?priority=urgent", headers=read)
    assert filtered.status_code == 400 and filtered.json()["field"] == "priority"


def test_recovery_over_http(server: Server) -> None:
    read = {"Authorization": f"Bearer {server.read_key}"}
    found = httpx.get(f"{server.url}/api/recovery?horizon_days=30", headers=read, timeout=60)
    assert found.status_code == 200 and found.json()["horizon_days"] == 30
    bad = httpx.get(f"{server.url}/api/recovery?horizon_days=0", headers=read)
    assert bad.status_code == 422 and bad.json()["field"] == "horizon_days"
    unknown = httpx.get(f"{server.url}/api/recovery?expectation=nope", headers=read, timeout=60)
    assert unknown.status_code == 400 and unknown.json()["field"] == "expectation"
