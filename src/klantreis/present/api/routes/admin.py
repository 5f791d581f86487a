"""The local admin channel: CLI commands carried out inside the running server.

Only for the CLI on the same machine (`present/cli/forward.py`): the request must come from a
loopback address and carry the token of `<store>.server.json`, which only the server's own
operating-system user can read. It is left out of the OpenAPI document on purpose.

Forwarded commands run one at a time, each in a worker thread of its own, with the server's
open store lent to it (`store/sharing.py`), so the collector keeps acknowledging events while
a command runs.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from klantreis.present.api.deps import get_store

router = APIRouter(include_in_schema=False)
_one_at_a_time = threading.Lock()


class CliRequest(BaseModel):
    argv: list[str] = Field(max_length=1000)
    store: str | None = None
    columns: int | None = Field(default=None, ge=20, le=1000)
    """Width of the caller's terminal; None when its output goes to a file or pipe."""


class CliResponse(BaseModel):
    exit_code: int
    stdout: str
    stderr: str


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _authorised(request: Request) -> bool:
    expected: str | None = getattr(request.app.state, "admin_token", None)
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return bool(
        expected
        and scheme.lower() == "bearer"
        and secrets.compare_digest(token.strip().encode(), expected.encode())
    )


@router.post("/admin/cli")
def run_cli(request: Request, body: CliRequest) -> CliResponse:
    """Run `klantreis <argv>` here and answer with its output and exit code."""
    if not _loopback(request) or not _authorised(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed")
    store = get_store(request)
    if body.store and Path(body.store).resolve() != store.path.resolve():
        raise HTTPException(status.HTTP_409_CONFLICT, f"this server holds {store.path}")
    if body.argv[:1] == ["serve"]:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a server already holds {store.path}")
    from klantreis.present.cli.inprocess import run_command
    from klantreis.store.sharing import serving

    with _one_at_a_time, serving(store):
        outcome = run_command(body.argv, body.columns)
    return CliResponse(exit_code=outcome.exit_code, stdout=outcome.stdout, stderr=outcome.stderr)
