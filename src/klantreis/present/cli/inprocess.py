"""Running a CLI command inside the server process, with its own output captured.

The server answers a forwarded command with exactly what the command would have printed and
its exit code. Commands print through Rich consoles, `typer.echo` and `sys.stdout`, all of
which look up `sys.stdout`/`sys.stderr` when they write; so the process gets one pair of
streams that write to the calling thread's buffers while a forwarded command runs there and to
the real streams otherwise (server logs keep going where they went).
"""

from __future__ import annotations

import contextvars
import io
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, TextIO

import typer

_buffers: contextvars.ContextVar[tuple[io.StringIO, io.StringIO] | None] = contextvars.ContextVar(
    "klantreis_cli_output", default=None
)
_install_lock = threading.Lock()


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr: the forwarded command's buffer in its context, else the real one."""

    def __init__(self, real: TextIO, index: int) -> None:
        self._real = real
        self._index = index

    def _target(self) -> TextIO:
        buffers = _buffers.get()
        return self._real if buffers is None else buffers[self._index]

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return _buffers.get() is None and self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8" if _buffers.get() is not None else self._real.encoding

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Stream):
            sys.stdout = _Stream(sys.stdout, 0)  # type: ignore[assignment]
        if not isinstance(sys.stderr, _Stream):
            sys.stderr = _Stream(sys.stderr, 1)  # type: ignore[assignment]


def _reported(exc: Exception, err: io.StringIO) -> int:
    """Exit code of a command that raised, with what the CLI would have printed for it.

    Typer's exceptions are recognised by what they carry (`exit_code`, `show`): which click
    classes they derive from has changed across Typer releases.
    """
    name = type(exc).__name__
    if name == "Abort":
        err.write("Aborted!\n")
        return 1
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=err)
        return code
    # a bug in a command must not take the server's route down with it
    err.write("".join(traceback.format_exception(exc)))
    return 1


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def run_command(argv: list[str], columns: int | None = None) -> Outcome:
    """`klantreis ARGV` in this thread, as the CLI would run it, output captured.

    `columns` is the width of the caller's terminal (tables are drawn for it); None draws them
    as for a file. Callers run one command at a time: the consoles are the process's own.
    """
    from klantreis.present.cli.app import app
    from klantreis.present.cli.options import console, err_console

    _install()
    out, err = io.StringIO(), io.StringIO()
    token = _buffers.set((out, err))
    widths = [(c, c._width) for c in (console, err_console)]
    for each, _ in widths:
        each._width = columns
    try:
        command = typer.main.get_command(app)
        try:
            result = command.main(args=list(argv), prog_name="klantreis", standalone_mode=False)
            code = result if isinstance(result, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:
            code = _reported(exc, err)
    finally:
        _buffers.reset(token)
        for each, width in widths:
            each._width = width
    return Outcome(code, out.getvalue(), err.getvalue())
