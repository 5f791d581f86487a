"""A patient start for `klantreis serve` in the voice end-to-end tests."""

from __future__ import annotations


def start_server(server, deadline_seconds: float = 120.0):
    """Start a `klantreis serve` (tests/collector's Server) and wait longer than its own 30 s:
    on a loaded 2-core CI machine, importing the app alone can take that long."""
    import subprocess
    import time

    import httpx
    from collector.conftest import CLI, free_port

    server.port = free_port()
    with server.log.open("ab") as log:
        server.proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(server.port)],
            env=server.env, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start: {server.log.read_text()[-2000:]}")
