"""The browser tests' server (and benchmarks/web_pages.py's): tests/servers.py with the
dashboard as a user runs it, so no klantreis.toml and the pages warm up at start."""

from __future__ import annotations

import subprocess
from pathlib import Path

import servers


class Server(servers.Server):
    def __init__(self, store: Path) -> None:
        super().__init__(store, config=None)


def cli(*args: str, store: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`klantreis ARGS` on `store`; a failure fails the caller."""
    return servers.cli(*args, store=store, timeout=timeout, check=True)
