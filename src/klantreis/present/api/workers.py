"""`klantreis serve --workers N`: N HTTP worker processes in front of one writer process.

One Python process parses and validates requests on one core. With `--workers N` the serving
process becomes the writer: it owns the store, commits (group commit, `collect/ingest.py`),
runs the routine and serves the read API, the dashboard and the admin channel on a loopback
port of its own. It binds the public address and starts N worker processes that share that
socket (`worker.py`): they take the connections, read and validate event batches and send
them over the commit channel (`channel.py`), and pass every other request to the writer
(`proxy.py`). A worker that dies is started again.

On SIGTERM the workers are stopped first (each finishes its requests in flight, whose batches
the writer still commits), then the writer commits what it holds and closes the store.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from klantreis.config import Settings
from klantreis.present.api.worker import TOKEN_ENV

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 20.0
"""Seconds a worker may take to finish its requests on SIGTERM before it is killed."""


class Workers:
    """The worker processes sharing the public socket; restarts one that dies."""

    def __init__(self, count: int, argv: list[str], fd: int, token: str) -> None:
        self.count = count
        self.argv = argv
        self.fd = fd
        self.env = {**os.environ, TOKEN_ENV: token}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self._started: dict[int, float] = {}
        self._due: dict[int, float] = {}
        self._quick_exits = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self.argv, pass_fds=(self.fd,), env=self.env)
        self._started[process.pid] = time.monotonic()
        return process

    def start(self) -> None:
        with self._lock:
            self.processes = [self._spawn() for _ in range(self.count)]
        threading.Thread(target=self._watch, name="klantreis-workers", daemon=True).start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                if self._stopping.is_set():
                    return
                for i, process in enumerate(self.processes):
                    if process.poll() is not None:
                        self._replace(i, process)

    def _replace(self, slot: int, process: subprocess.Popen[bytes]) -> None:
        """Start another worker in a dead one's place; one that keeps dying at start-up (a
        broken installation) is started again ever more slowly, up to once a minute."""
        now = time.monotonic()
        if slot not in self._due:
            lived = now - self._started.pop(process.pid, now)
            self._quick_exits = self._quick_exits + 1 if lived < 10 else 0
            delay = min(60.0, 2.0 ** (self._quick_exits - 1)) if self._quick_exits else 0.0
            log.warning(
                "HTTP worker %d exited (%s); starting another in %.0f s",
                process.pid,
                process.returncode,
                delay,
            )
            self._due[slot] = now + delay
        if now >= self._due[slot]:
            del self._due[slot]
            self.processes[slot] = self._spawn()
            self.restarts += 1

    def stop(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """SIGTERM every worker and wait for it to drain; SIGKILL one that does not."""
        with self._lock:
            self._stopping.set()
            processes = list(self.processes)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("HTTP worker %d did not stop in time; killing it", process.pid)
                process.kill()
                process.wait(10)


class WriterServer(uvicorn.Server):
    """The writer's uvicorn server: on a signal, drain the workers first, then stop."""

    def __init__(self, config: uvicorn.Config, workers: Workers) -> None:
        super().__init__(config)
        self.workers = workers
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            super().handle_exit(sig, frame)
            return
        self._draining = True

        def drain() -> None:
            self.workers.stop()
            super(WriterServer, self).handle_exit(sig, frame)

        threading.Thread(target=drain, name="klantreis-drain", daemon=True).start()


def serve_with_workers(
    app: Any,
    settings: Settings,
    *,
    count: int,
    host: str,
    port: int,
    access_log: bool,
    forwarded_allow_ips: str,
    advertise: Any,
) -> None:
    """Serve `app` (the full app, in this process: the writer) behind `count` HTTP workers
    listening on host:port. `advertise(app, host, port)` writes the server file once the
    writer listens (its loopback port: the CLI talks to the writer directly)."""
    from klantreis.present.api.proxy import ForwardedByWorker
    from klantreis.present.api.server import server_config

    public = uvicorn.Config(app, host=host, port=port).bind_socket()
    runtime = Path(tempfile.mkdtemp(prefix="klantreis-"))  # mode 0700: ours alone
    channel = runtime / "commit.sock"
    token = secrets.token_urlsafe(32)
    app.state.commit_channel = channel
    app.add_middleware(ForwardedByWorker, token=token)
    # The workers name the client (ForwardedByWorker); no X-Forwarded-For is believed here.
    # The workers log every request they take; the writer would log the proxied ones again.
    config = server_config(
        app,
        settings,
        host="127.0.0.1",
        port=0,
        access_log=False,
        log_level="info",
        proxy_headers=False,
    )
    argv = [
        sys.executable,
        "-m",
        "klantreis.present.api.worker",
        "--fd",
        str(public.fileno()),
        "--store",
        str(settings.store),
        "--channel",
        str(channel),
        *(["--access-log"] if access_log else []),
        *(["--forwarded-allow-ips", forwarded_allow_ips] if forwarded_allow_ips else []),
    ]
    workers = Workers(count, argv, public.fileno(), token)
    server = WriterServer(config, workers)

    def start_workers() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        sock = server.servers[0].sockets[0]
        writer_port = sock.getsockname()[1]
        workers.argv += ["--writer", f"http://127.0.0.1:{writer_port}"]
        advertise(app, "127.0.0.1", writer_port)
        workers.start()
        log.info("%d HTTP workers on %s:%d; writer on port %d", count, host, port, writer_port)

    threading.Thread(target=start_workers, name="klantreis-start-workers", daemon=True).start()
    try:
        server.run()
    finally:
        workers.stop(timeout=5)  # already stopped on a signal; a crash of the writer leaves none
        public.close()
        shutil.rmtree(runtime, ignore_errors=True)
