"""`klantreis erase` beside a running server: carried out inside it, under event load.

The erasure rewrites the store file while the server holds it: the collector must lose no
acknowledged event, the server must keep serving afterwards, and the person must be gone from
the file itself once the server has stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import Server, cli

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.privacy import export_person
from live.load import Load

pytestmark = pytest.mark.slow


def test_erase_beside_a_server_under_load(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=120, seed=3)).iter_batches(20_000):
            kr.store.append(batch)
        kr.journey_map()
        person = kr.store.connection.execute(
            "SELECT user_id FROM events WHERE traits LIKE '%@%' ORDER BY user_id LIMIT 1"
        ).fetchall()[0][0]
        exported = export_person(kr.store, person)
    email = next(
        json.loads(row["traits"])["email"]
        for row in exported["tables"]["events"]
        if "email" in (row["traits"] or "")
    )
    server = Server(path).create_keys()
    server.start()
    try:
        with Load(server) as load:
            result = cli("erase", person, store=path, timeout=300)
            after = cli("stats", "--json", store=path, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "rewritten" in result.stdout
        assert after.returncode == 0, after.stderr[-2000:]
        assert load.acknowledged and load.refused == 0
    finally:
        server.stop()
    rows = server.stored("SELECT message_id FROM events WHERE message_id LIKE 'live-%'")
    assert set(load.acknowledged) <= {r[0] for r in rows}
    assert server.stored(f"SELECT count(*) FROM events WHERE user_id = '{person}'") == [(0,)]
    contents = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))
    for value in (person, email, *exported["ids"]):
        assert value.encode() not in contents, value
