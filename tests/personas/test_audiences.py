"""Audiences: CSV with consented e-mail hashes only, a webhook that sends nobody twice, the API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from servers import Server
from stories import event_row
from typer.testing import CliRunner

import klantreis
from klantreis.act.audiences import notify_entries
from klantreis.measure.audiences import AudienceError
from klantreis.measure.personas.rules import apply_rules
from klantreis.present.cli.app import app
from klantreis.store import Store
from klantreis.store.schema import EVENT_ARROW_SCHEMA


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def customers(*names_consent: tuple[str, bool]) -> pa.Table:
    rows = []
    for i, (name, consent) in enumerate(names_consent):
        rows.append(
            event_row(
                name,
                "Identify",
                "08:00",
                type="identify",
                traits={"email": f"{name}@example.nl", "consent_marketing": consent},
            )
        )
        rows.append(
            event_row(
                name,
                "Order Completed",
                f"09:{i:02d}",
                properties={"order_id": f"{name}-1", "total": 20},
            )
        )
    return pa.Table.from_pylist(rows, schema=EVENT_ARROW_SCHEMA)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(customers(("anna", True), ("bram", False)))
    with klantreis.open(path) as kr:
        apply_rules(kr)
    return path


class Receiver:
    """A real HTTP server on a free port that records the JSON bodies it receives."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def persons(self) -> list[str]:
        return [p["user_id"] for body in self.bodies for p in body["persons"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_csv_has_email_hash_only_where_consented(store_path: Path, tmp_path: Path):
    out = tmp_path / "first.csv"
    result = CliRunner().invoke(
        app,
        ["personas", "export", "first-time-buyers", "--store", str(store_path), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["anna"]["email_sha256"] == sha("anna@example.nl")
    assert rows["bram"]["email_sha256"] == ""
    assert "@" not in out.read_text()


def test_unknown_segment_is_named(store_path: Path):
    result = CliRunner().invoke(app, ["personas", "export", "vips", "--store", str(store_path)])
    assert result.exit_code == 2
    assert "persona: unknown segment 'vips'" in result.output


def test_webhook_on_entry_sends_nobody_twice(store_path: Path, receiver: Receiver):
    with klantreis.open(store_path) as kr:
        assert notify_entries(kr, "first-time-buyers", receiver.url)["sent"] == 2
        assert notify_entries(kr, "first-time-buyers", receiver.url)["sent"] == 0
    assert sorted(receiver.persons()) == ["anna", "bram"]
    assert receiver.bodies[0]["event"] == "audience.entered"
    # a new customer enters the segment: only she is sent
    with Store(store_path) as store:
        store.append(customers(("cato", True)))
    with klantreis.open(store_path) as kr:
        apply_rules(kr)
        receiver.status = 500
        with pytest.raises(Exception, match="failed after 3 attempts"):
            notify_entries(kr, "first-time-buyers", receiver.url)
        receiver.status = 200
        assert notify_entries(kr, "first-time-buyers", receiver.url)["sent"] == 1
    assert receiver.persons()[-1] == "cato"
    assert receiver.persons().count("anna") == 1
    with klantreis.open(store_path) as kr, pytest.raises(AudienceError):
        notify_entries(kr, "vips", receiver.url)


def test_configured_webhook_runs_after_rules(
    store_path: Path, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[personas]\nwebhook = "{receiver.url}"\nnotify = ["first-time-buyers"]\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["personas", "rules", "--store", str(store_path), "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["first-time-buyers"] == 2
    assert sorted(receiver.persons()) == ["anna", "bram"]


@pytest.mark.slow
def test_audience_through_the_api(store_path: Path):
    server = Server(store_path)
    server.read_key = server.create_key("analyst", read=True)
    server.start()
    try:
        auth = {"Authorization": f"Bearer {server.read_key}"}
        listed = httpx.get(f"{server.url}/api/personas", headers=auth, timeout=10)
        assert listed.status_code == 200
        assert "first-time-buyers" in {p["persona"] for p in listed.json()}
        got = httpx.get(
            f"{server.url}/api/personas/first-time-buyers/audience", headers=auth, timeout=10
        ).json()
        hashes = {p["user_id"]: p["email_sha256"] for p in got["persons"]}
        assert hashes == {"anna": sha("anna@example.nl"), "bram": None}
        as_csv = httpx.get(
            f"{server.url}/api/personas/first-time-buyers/audience",
            params={"format": "csv"},
            headers=auth,
            timeout=10,
        )
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.text.splitlines()[0].startswith("person_id,user_id,email_sha256")
        missing = httpx.get(f"{server.url}/api/personas/vips/audience", headers=auth, timeout=10)
        assert missing.status_code == 404
        assert "persona: unknown segment 'vips'" in missing.text
        bad = httpx.get(
            f"{server.url}/api/personas/first-time-buyers/audience",
            params={"format": "xml"},
            headers=auth,
            timeout=10,
        )
        assert bad.status_code == 422
        assert httpx.get(f"{server.url}/api/personas", timeout=10).status_code == 401
    finally:
        server.stop()


def test_erasure_reaches_personas_and_sent_audiences(store_path: Path, receiver: Receiver):
    from klantreis.privacy import erase_person, export_person

    with klantreis.open(store_path) as kr:
        notify_entries(kr, "first-time-buyers", receiver.url)
        exported = export_person(kr.store, "anna")
        assert {"person_personas", "audience_sent"} <= set(exported["tables"])
        erase_person(kr.store, "anna")
        left = kr.sql("SELECT count(*) AS n FROM person_personas WHERE person_id = 'anna'")
        sent = kr.sql("SELECT count(*) AS n FROM audience_sent WHERE person_id = 'anna'")
        assert left.to_pylist()[0]["n"] == 0
        assert sent.to_pylist()[0]["n"] == 0
