"""Property-based fuzzing of the published OpenAPI description: no input gives a 5xx."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from servers import Server

pytestmark = pytest.mark.slow
COLLECTOR = r"^/v1/(track|identify|page|screen|group|alias|batch)$"


def schemathesis_run(server: Server, auth: str, *selection: str, examples: int, seconds: int):
    st = shutil.which("st") or shutil.which("schemathesis")
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [
            st, "run", f"{server.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--max-examples", str(examples),
            "--max-time", str(seconds),
            "--header", f"Authorization: {auth}",
            "--seed", "20261123",
            *selection,
        ],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip


def test_collector_routes_never_answer_5xx(server: Server) -> None:
    basic = base64.b64encode(f"{server.write_key}:".encode()).decode()
    result = schemathesis_run(
        server, f"Basic {basic}", "--include-path-regex", COLLECTOR, examples=40, seconds=35
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout


def test_read_routes_never_answer_5xx(server: Server) -> None:
    result = schemathesis_run(
        server, f"Bearer {server.read_key}", "--exclude-path-regex", COLLECTOR,
        examples=15, seconds=25,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout
