"""A real `klantreis serve` subprocess on a free loopback port with its own temporary store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from klantreis.collect.keys import create_key
from klantreis.store import Store

CLI = [sys.executable, "-m", "klantreis.present.cli.app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


class Server:
    """One collector process; `kill()` is SIGKILL, `stop()` a clean shutdown."""

    def __init__(self, store: Path, *, config: Path | None = None) -> None:
        self.store = store
        if config is None:
            # The dashboard's start-up warm-up is not under test here and costs CPU.
            config = store.with_suffix(".toml")
            config.write_text("[web]\nwarm = false\n")
        self.env = {**os.environ, "KLANTREIS_STORE": str(store), "KLANTREIS_CONFIG": str(config)}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = store.with_suffix(".log")
        self.write_key = ""
        self.read_key = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_key(self, name: str, *, read: bool = False) -> str:
        """A key made through the Python API the CLI uses (the CLI has its own tests);
        in-process because every CLI start costs seconds of imports."""
        assert self.proc is None, "create keys before starting the server"
        with Store(self.store) as store:
            return create_key(store, name, "read" if read else "write")[1]

    def start(self) -> Server:
        self.port = free_port()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stored(self, sql: str = "SELECT message_id FROM events") -> list[tuple]:
        """Rows from the store; only while the server is stopped (DuckDB: one process)."""
        assert self.proc is None, "stop the server before opening its store"
        with Store(self.store, read_only=True) as store:
            return store.connection.execute(sql).fetchall()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[type[Server]]:
    started: list[Server] = []

    def factory(config: str = "") -> Server:
        cfg = tmp_path / f"klantreis-{len(started)}.toml"
        cfg.write_text("[web]\nwarm = false\n" + config)
        server = Server(tmp_path / f"store-{len(started)}.duckdb", config=cfg)
        started.append(server)
        return server

    yield factory  # type: ignore[misc]
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server shared by the collector tests, with `write_key` and `read_key` set.

    Tests that need to stop, kill or reconfigure a server use `make_server` instead."""
    server = Server(tmp_path_factory.mktemp("collector") / "store.duckdb")
    server.write_key = server.create_key("shop")
    server.read_key = server.create_key("analyst", read=True)
    server.start()
    yield server
    server.stop()
