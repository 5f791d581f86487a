"""A real `klantreis serve` subprocess on a free loopback port, for the end-to-end tests.

One helper for every test that talks to the server over HTTP (collector, voice, expectations,
personas, the browser tests) and for benchmarks/web_pages.py (through tests/web/server.py):
the same start, readiness check and shutdown everywhere, so a fix to one reaches them all.
What the tests need to differ in (the config, the environment, extra `serve` options) is
given as arguments.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from klantreis.collect.keys import create_key
from klantreis.store import Store

CLI = [sys.executable, "-m", "klantreis.present.cli.app"]

# The dashboard's start-up warm-up of every page and the server's routine (model refresh, voice,
# cases, ...) cost CPU and are not under test in most tests.
NO_WARM_UP = "[web]\nwarm = false\n[routine]\nenabled = false\n"

_running: set[Server] = set()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(
    *args: str,
    store: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`klantreis ARGS` as a subprocess (its own imports, as a user runs it).

    `check` fails the test on a non-zero exit, with the end of stderr in the message."""
    extra = {"KLANTREIS_STORE": str(store)} if store is not None else {}
    result = subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **extra, **(env or {})},
        check=False,
    )
    if check:
        assert result.returncode == 0, f"klantreis {' '.join(args)}: {result.stderr[-2000:]}"
    return result


def cli_here(
    *args: str,
    store: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`klantreis ARGS` in this process, as the CLI runs it (`klantreis.present.cli.inprocess`,
    the runner of `cli_steps` and of the commands `klantreis serve` carries out), with its exit
    code and output; `store`, `env` and `check` as for `cli`.

    For tests whose point is what a command does or answers, not a fresh process: a process
    per command pays its imports (about 3 CPU seconds; far more on a loaded machine). Beside
    a running server the command still finds the store locked and forwards to the server over
    HTTP: this process is the CLI's side of that boundary."""
    from klantreis.present.cli.inprocess import run_command

    extra = {"KLANTREIS_STORE": str(store)} if store is not None else {}
    changed = {**extra, **(env or {})}
    saved = {name: os.environ.get(name) for name in changed}
    os.environ.update(changed)
    try:
        # the width a `klantreis` process writing to a pipe draws its tables for
        outcome = run_command(list(args), int(os.environ.get("COLUMNS", "80")))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if check:
        assert outcome.exit_code == 0, f"klantreis {' '.join(args)}: {outcome.stderr[-2000:]}"
    return subprocess.CompletedProcess(
        ["klantreis", *args], outcome.exit_code, outcome.stdout, outcome.stderr
    )


def forwarded(*args: str, server: Server) -> subprocess.CompletedProcess[str]:
    """`klantreis ARGS` beside the running `server`, sent from this process the way a CLI
    process sends it on finding the store held (`klantreis.present.cli.forward`): the server
    runs it and answers with its output and exit code.

    For polling the server (`status --json` until a job has run): a new CLI process per poll
    costs seconds of CPU that the server's own jobs, the thing waited for, then lack."""
    from klantreis.present.cli.forward import forward
    from klantreis.store import StoreLockedError

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = forward(list(args), StoreLockedError("held by the server", server.store))
    # forward() waits for a server that holds the store to say where it listens; None means
    # the store's lock holder is not a server (or has gone)
    assert code is not None, f"no server holds {server.store}: {err.getvalue()[-2000:]}"
    return subprocess.CompletedProcess(["klantreis", *args], code, out.getvalue(), err.getvalue())


_STEPS_RUNNER = """
import json, sys
from klantreis.present.cli.inprocess import run_command
done = []
for argv in json.loads(sys.stdin.read()):
    outcome = run_command(argv)
    done.append([outcome.exit_code, outcome.stdout, outcome.stderr])
    if outcome.exit_code != 0:
        break
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(done, out)
"""


def cli_steps(
    *steps: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> list[subprocess.CompletedProcess[str]]:
    """Several `klantreis` commands one after another in one new process, each run as the CLI
    runs it, with its own exit code and output (`klantreis.present.cli.inprocess`, the runner
    `klantreis serve` carries forwarded commands out with).

    For tests whose point is what the commands do together rather than the process boundary
    between them: every process pays its imports (seconds) and, on Spark, a JVM start (about
    20 CPU seconds) and a cold JIT for its first queries. Each step must succeed: a failed one
    fails the caller with its stderr, and the steps after it are not run."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "steps.json"
        process = subprocess.run(
            [sys.executable, "-c", _STEPS_RUNNER, str(results)],
            input=json.dumps([list(step) for step in steps]),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
        assert process.returncode == 0 and results.exists(), (
            f"klantreis steps {steps}: {process.stderr[-2000:]}"
        )
        done = json.loads(results.read_text(encoding="utf-8"))
    for step, (code, _, stderr) in zip(steps, done, strict=False):
        assert code == 0, f"klantreis {' '.join(step)}: {stderr[-2000:]}"
    assert len(done) == len(steps)
    return [
        subprocess.CompletedProcess(["klantreis", *step], code, stdout, stderr)
        for step, (code, stdout, stderr) in zip(steps, done, strict=True)
    ]


class Server:
    """One `klantreis serve` process over `store`; `stop()` shuts it down cleanly, `kill()` is
    SIGKILL. It may be started again on the same store (on a new port).

    `config` is the text of the klantreis.toml it reads (written next to the store); None
    writes none, so the server runs on its defaults as a user's would. `env` is added to the
    environment, `args` to the `serve` command line."""

    def __init__(
        self,
        store: Path,
        *,
        config: str | None = NO_WARM_UP,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.env = {**os.environ, "KLANTREIS_STORE": str(store), **(env or {})}
        if config is not None:
            path = store.with_suffix(".toml")
            path.write_text(config)
            self.env["KLANTREIS_CONFIG"] = str(path)
        self.args = list(args)
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

    def create_keys(self) -> Server:
        """A write key (`write_key`, named "shop") and a read key (`read_key`, "analyst")."""
        self.write_key = self.create_key("shop")
        self.read_key = self.create_key("analyst", read=True)
        return self

    def start(self, timeout: float = 300) -> Server:
        """Start and wait until /v1/health answers. The generous timeout is for a loaded
        2-core CI machine, where importing the app alone can take half a minute; a healthy
        start returns as soon as the server answers."""
        assert self.proc is None, "the server is already running"
        self.port = free_port()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _running.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"server did not start in {timeout:.0f} s: {self.log.read_text()[-2000:]}"
        )

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, so the server flushes and closes its store; SIGKILL if it has not exited
        within `timeout` seconds."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        _running.discard(self)

    def kill(self) -> None:
        """SIGKILL, as a crash would end it (the durability tests)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None
        _running.discard(self)

    def stored(self, sql: str = "SELECT message_id FROM events") -> list[tuple]:
        """Rows from the store; only while the server is stopped (DuckDB: one process)."""
        assert self.proc is None, "stop the server before opening its store"
        with Store(self.store, read_only=True) as store:
            return store.connection.execute(sql).fetchall()


@atexit.register
def _stop_leftovers() -> None:
    """A test that fails between `start()` and its `stop()` must not leave a server behind."""
    for server in list(_running):
        server.stop(timeout=10)
