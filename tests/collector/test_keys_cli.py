"""`klantreis keys create|list|revoke` through the real CLI (in-process with Typer's runner,
which separates stdout from stderr; one test starts it as a subprocess)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from servers import Server, cli

from klantreis.collect.keys import KeyRing, hash_key
from klantreis.store import Store


def run(*args: str, env: dict[str, str]):
    from typer.testing import CliRunner

    from klantreis.present.cli.app import app

    return CliRunner().invoke(app, list(args), env=env)


def test_create_list_revoke(tmp_path: Path) -> None:
    env = {"KLANTREIS_STORE": str(tmp_path / "keys.duckdb")}
    created = run("keys", "create", "--name", "webshop", env=env)
    assert created.exit_code == 0, created.output
    key = created.stdout
    assert key.endswith("\n") and key.count("\n") == 1, "stdout must hold the key alone"
    key = key.strip()
    assert key.startswith("krw_") and len(key) > 30
    read = run("keys", "create", "--name", "analyst", "--read", env=env).stdout.strip()
    assert read.startswith("krr_")

    listed = orjson.loads(run("keys", "list", "--json", env=env).stdout)
    assert [(k["name"], k["kind"], k["revoked_at"]) for k in listed] == [
        ("webshop", "write", None),
        ("analyst", "read", None),
    ]
    assert key not in orjson.dumps(listed).decode(), "keys list must never show a secret"

    with Store(tmp_path / "keys.duckdb", read_only=True) as store:
        stored = store.connection.execute("SELECT key_hash FROM api_keys").fetchall()
        assert (hash_key(key),) in stored and (key,) not in stored  # only the hash is kept
        ring = KeyRing(store)
        assert ring.lookup(key, "write") is not None
        assert ring.lookup(key, "read") is None, "a write key is not a read key"
        assert ring.lookup(read, "read") is not None

    revoked = run("keys", "revoke", "webshop", env=env)
    assert revoked.exit_code == 0, revoked.output
    with Store(tmp_path / "keys.duckdb", read_only=True) as store:
        assert KeyRing(store).lookup(key, "write") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "revoke", "nobody"), "no active key"),
        (("keys", "create", "--name", "  "), "needs a --name"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    Store(tmp_path / "keys.duckdb").close()
    result = run(*args, env={"KLANTREIS_STORE": str(tmp_path / "keys.duckdb")})
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_beside_the_server_run_inside_it(server: Server) -> None:
    """The server holds the store; the command is carried out inside it (docs/live.md)."""
    result = cli("keys", "list", env={"KLANTREIS_STORE": str(server.store)})
    assert result.returncode == 0, result.stderr
    assert "shop" in result.stdout
    assert "analyst" in result.stdout
    assert "Traceback" not in result.stderr


def test_keyring_follows_keys_made_and_revoked_in_the_server_process(tmp_path: Path) -> None:
    from klantreis.collect.keys import create_key, revoke_key

    with Store(tmp_path / "ring.duckdb") as store:
        ring = KeyRing(store, reload_interval=3600)  # no time-based reload in this test
        record, secret = create_key(store, "dashboard-made")
        assert ring.lookup(secret, "write") == record
        revoke_key(store, record.key_id)
        assert ring.lookup(secret, "write") is None, "a revoked key must stop working at once"


def test_a_keyring_over_published_keys_follows_the_file(tmp_path: Path) -> None:
    """A lake's collector reads keys from the file `keys create|revoke` publish: a new key is
    found, a revoked one refused once the file changed (a stat per reload interval)."""
    from klantreis.collect.keys import create_key, publish_keys, revoke_key

    lake = tmp_path / "lake"
    with Store(tmp_path / "state.duckdb") as store:
        _, first = create_key(store, "shop")
        _, reader = create_key(store, "analyst", "read")
        path = publish_keys(store, lake)
        assert first not in path.read_text() and hash_key(first) in path.read_text()
        ring = KeyRing(published=path, reload_interval=0)
        assert ring.lookup(first, "write") is not None
        assert ring.lookup(reader, "read") is None  # read keys are not published
        _, second = create_key(store, "app")
        assert ring.lookup(second, "write") is None  # not published yet
        publish_keys(store, lake)
        assert ring.lookup(second, "write") is not None
        revoke_key(store, "shop")
        publish_keys(store, lake)
        assert ring.lookup(first, "write") is None
        assert ring.lookup(second, "write") is not None
