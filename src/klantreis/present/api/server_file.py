"""The file beside a store that says a `klantreis serve` holds it, and how to reach it.

`<store>.server.json` holds the server's process id, a loopback URL and a random admin token.
It is written with mode 0600 when the server starts and removed when it stops, so only the
operating-system user who runs the server (and root) can read the token: that is what lets the
CLI run its commands inside the server while nobody else can.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerFile:
    pid: int
    url: str
    token: str
    store: str

    @staticmethod
    def path_for(store: Path) -> Path:
        return store.with_name(store.name + ".server.json")

    @classmethod
    def new(cls, store: Path, host: str, port: int, token: str | None = None) -> ServerFile:
        # A server listening on every address is still reached on loopback by the CLI, and
        # the admin route accepts loopback clients only.
        local = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host
        if local == "::":
            local = "::1"
        if ":" in local:
            local = f"[{local}]"
        return cls(
            pid=os.getpid(),
            url=f"http://{local}:{port}",
            token=token or secrets.token_urlsafe(32),
            store=str(store.resolve()),
        )

    def write(self) -> Path:
        path = self.path_for(Path(self.store))
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(self), fh)
        os.replace(tmp, path)
        return path

    def remove(self) -> None:
        path = self.path_for(Path(self.store))
        with contextlib.suppress(OSError):
            current = read_server_file(Path(self.store))
            if current is not None and current.token == self.token:
                path.unlink()

    def alive(self) -> bool:
        return process_alive(self.pid)


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (a signal 0 reaches it, or it is another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def read_server_file(store: Path) -> ServerFile | None:
    """The server that holds `store`, if its file is there and readable."""
    path = ServerFile.path_for(store.resolve())
    try:
        data = json.loads(path.read_text())
        return ServerFile(
            pid=int(data["pid"]),
            url=str(data["url"]),
            token=str(data["token"]),
            store=str(data["store"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
