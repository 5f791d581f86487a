"""Collector servers: one shared by the tests that only send and read, and a factory for the
tests that stop, kill or reconfigure theirs (tests/servers.py starts them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers import NO_WARM_UP, Server


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`make_server(config="")`: a server not yet started, over a new store; `config` is
    added to the toml (the warm-up stays off). Every one is stopped after the test."""
    made: list[Server] = []

    def factory(config: str = "") -> Server:
        server = Server(tmp_path / f"store-{len(made)}.duckdb", config=NO_WARM_UP + config)
        made.append(server)
        return server

    yield factory
    for server in made:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server shared by the collector tests, with `write_key` and `read_key` set.

    Tests that need to stop, kill or reconfigure a server use `make_server` instead."""
    server = Server(tmp_path_factory.mktemp("collector") / "store.duckdb").create_keys()
    server.start()
    yield server
    server.stop()
