"""Carrying out a CLI command inside the `klantreis serve` that holds the store.

DuckDB lets one process write a file, and a shop leaves the server running. So when a command
finds the store locked, it reads `<store>.server.json` (written by the server, readable by its
user only), sends its arguments to the server's loopback-only admin route with the token from
that file, and prints what the server's run of the same command printed, with the same exit
code. Paths on the command line are made absolute first, since the server has its own working
directory: only the values of options and arguments that the command declares as paths.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path, PurePath
from typing import Any, get_args

import httpx
import typer

from klantreis.present.api.server_file import ServerFile, process_alive, read_server_file
from klantreis.store import StoreLockedError

# Typer's command objects are read by their documented attributes only (`params`, `opts`,
# `param_type_name`, ...): Typer has changed which click classes it is built on across releases.


def _leaf(argv: list[str]) -> tuple[Any, int]:
    """The subcommand that `argv` runs and the index of its first own token."""
    from klantreis.present.cli.app import app

    command: Any = typer.main.get_command(app)
    index = 0
    while hasattr(command, "get_command"):
        while index < len(argv) and argv[index].startswith("-"):
            index += 1
        if index >= len(argv):
            break
        sub = command.get_command(command.context_class(command), argv[index])
        if sub is None:
            break
        command, index = sub, index + 1
    return command, index


def _is_path(param: Any) -> bool:
    kind = getattr(param, "type", None)  # click's own parameters
    if kind is not None:
        return type(kind).__name__ == "Path"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    for each in (annotation, *get_args(annotation)):
        if isinstance(each, type) and issubclass(each, PurePath):
            return True
    return False


def absolute_paths(argv: list[str], cwd: Path) -> list[str]:
    """`argv` with every path-typed option value and argument made absolute against `cwd`."""
    command, start = _leaf(argv)
    options: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    arguments = [p for p in command.params if p.param_type_name == "argument"]

    def absolute(value: str, param: Any) -> str:
        if value in ("", "-"):
            return value
        if not _is_path(param):
            # Options that take a name or a file (`--mapping orders.yaml`): a file the caller
            # can see is meant.
            named = param.param_type_name == "option" and (cwd / value).is_file()
            if not named or Path(value).is_absolute():
                return value
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else cwd / path)

    out = list(argv[:start])
    position = 0
    tokens = iter(range(start, len(argv)))
    only_positional = False
    for i in tokens:
        token = argv[i]
        if not only_positional and token == "--":
            only_positional = True
            out.append(token)
            continue
        if not only_positional and token.startswith("-") and token != "-":
            name, eq, value = token.partition("=")
            option = options.get(name)
            if option is None or option.is_flag or option.count:
                out.append(token)
                continue
            if eq:
                out.append(f"{name}={absolute(value, option)}")
                continue
            out.append(token)
            following = next(tokens, None)
            if following is not None:
                out.append(absolute(argv[following], option))
            continue
        argument = arguments[min(position, len(arguments) - 1)] if arguments else None
        out.append(absolute(token, argument) if argument is not None else token)
        if argument is not None and argument.nargs != -1:
            position += 1
    return out


def caller_values(argv: list[str]) -> list[str]:
    """Options whose values come from the caller's environment or a prompt, made explicit.

    The server has neither the caller's environment (`KLANTREIS_USER_PASSWORD`, ...) nor its
    terminal, so prompts are answered here, before the command is sent.
    """
    command, start = _leaf(argv)
    if hasattr(command, "get_command"):
        return []
    ctx = command.make_context(command.name or "", list(argv[start:]))
    extra: list[str] = []
    for param in command.params:
        if param.param_type_name != "option" or param.name in (None, "store"):
            continue
        source = ctx.get_parameter_source(param.name)
        if getattr(source, "name", None) not in ("ENVIRONMENT", "PROMPT"):
            continue
        value = ctx.params.get(param.name)
        if value is None:
            continue
        if param.is_flag:
            names = param.opts if value else param.secondary_opts
            extra.extend(names[:1])
        else:
            for each in value if param.multiple else [value]:
                extra.extend([param.opts[0], str(each)])
    return extra


SERVER_WAIT = 30.0
"""Seconds a command waits for the `klantreis serve` that holds the store to say where it
listens (`<store>.server.json`, written once its socket is bound, moments after it took the
store) and to accept the connection. On a loaded machine a server just started can take
seconds for that; a command that gave up at once said the store was locked by a server it
could have run in."""


def _serving(pid: int) -> bool | None:
    """Whether process `pid` runs `klantreis serve`: None where that cannot be read."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return b"serve" in argv


def _server(error: StoreLockedError, deadline: float) -> ServerFile | None:
    """The server that holds the store, once its file is there; None when the holder is not
    a server (or is gone) or no file appeared by `deadline`."""
    assert error.path is not None
    while True:
        server = read_server_file(Path(error.path))
        if server is not None and server.alive():
            return server
        holder = error.holder
        if holder is None or not process_alive(holder) or _serving(holder) is False:
            return None
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def forward(argv: list[str], error: StoreLockedError, wait: float = SERVER_WAIT) -> int | None:
    """Run `argv` in the server holding the locked store; None when no server holds it.

    A server that holds the store but has not yet said where it listens, or does not accept
    the connection, is waited for up to `wait` seconds; one that still does not answer is
    named in the error (exit code 2)."""
    if error.path is None or (argv and argv[0] == "serve"):
        return None
    deadline = time.monotonic() + wait
    server = _server(error, deadline)
    if server is None:
        return None
    body = {
        "argv": absolute_paths([*argv, *caller_values(argv)], Path.cwd()),
        "store": server.store,
        "columns": shutil.get_terminal_size().columns if sys.stdout.isatty() else None,
    }
    while True:
        try:
            response = httpx.post(
                f"{server.url}/admin/cli",
                json=body,
                headers={"Authorization": f"Bearer {server.token}"},
                timeout=httpx.Timeout(10.0, read=None),
            )
            break
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # not sent: trying again cannot run the command twice
            if time.monotonic() >= deadline or not server.alive():
                sys.stderr.write(
                    f"error: the server that holds {server.store} (process {server.pid}, "
                    f"{server.url}) did not answer within {wait:.0f} s: {exc}\n"
                )
                return 2
            time.sleep(0.2)
        except httpx.HTTPError as exc:
            sys.stderr.write(
                f"error: the server that holds {server.store} (process {server.pid}, "
                f"{server.url}) stopped answering: {exc}\n"
            )
            return 2
    if response.status_code != 200:
        detail = response.json().get("error", response.text) if response.content else ""
        sys.stderr.write(f"error: the running server refused the command: {detail}\n")
        return 2
    outcome = response.json()
    sys.stdout.write(outcome["stdout"])
    sys.stderr.write(outcome["stderr"])
    sys.stdout.flush()
    return int(outcome["exit_code"])
