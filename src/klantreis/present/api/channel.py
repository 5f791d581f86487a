"""The commit channel between the HTTP workers of `serve --workers N` and the one writer.

DuckDB lets one process write the store, so with several HTTP processes one of them (the
writer) owns the store and the others only read, authorise and validate requests. A worker
sends each validated batch, already as an Arrow table, over a Unix socket to the writer, which
puts it on its group-commit queue (`collect.ingest.Ingest`) like its own requests and answers
only after the commit. The worker acknowledges to the client only then, so an acknowledged
event is always stored; a batch whose answer is lost (a worker or writer killed) is answered
with an error, and the client's retry is dropped as a repeat of its messageId at the merge.

Frames are a 4-byte length and a pickle. The socket lives in a directory only the server's
operating-system user can enter, the same user that can read the store file itself, so the
peer is trusted. The writer also pushes the active write keys (so a worker checks a key
without asking) and its queue age (so a worker refuses with 429 while the writer is behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from klantreis.collect.ingest import Ingest, Overloaded, WriterStopped
from klantreis.collect.keys import ApiKey, KeyKind, KeyRing, hash_key
from klantreis.store import AppendResult

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
STATUS_INTERVAL = 0.2
"""Seconds between the writer's looks at its queue age and keys; either is pushed to the
workers only when it changed (an idle server sends nothing: every wake-up of a worker costs)."""


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return pickle.loads(await reader.readexactly(size))


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


# -- the writer's side -----------------------------------------------------------------------
class CommitChannel:
    """The writer's end: commits what workers send, pushes keys and queue age to them."""

    def __init__(self, path: Path, ingest: Ingest, keyring: KeyRing) -> None:
        self.path = path
        self.ingest = ingest
        self.keyring = keyring
        self._writers: set[asyncio.StreamWriter] = set()
        self._keys: dict[str, ApiKey] = {}
        self._queue_age = 0.0

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[CommitChannel]:
        server = await asyncio.start_unix_server(self._connection, path=str(self.path))
        pusher = asyncio.create_task(self._push_status(), name="klantreis-channel-status")
        try:
            yield self
        finally:
            pusher.cancel()
            server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _active_keys(self) -> dict[str, ApiKey]:
        return self.keyring.active()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        tasks: set[asyncio.Task[None]] = set()
        try:
            writer.write(_frame(("keys", self._active_keys())))
            while True:
                try:
                    message = await _read_frame(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                _, ident, rows, quarantined = message
                task = asyncio.create_task(self._commit(writer, ident, rows, quarantined))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            # A worker gone mid-request: what it sent is still committed (its client heard
            # no answer and retries; the repeat is dropped at the merge).
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            self._writers.discard(writer)
            writer.close()

    async def _commit(
        self, writer: asyncio.StreamWriter, ident: int, rows: Any, quarantined: Any
    ) -> None:
        try:
            result = await self.ingest.submit(rows, quarantined)
            answer: tuple[Any, ...] = ("done", ident, result, self.ingest.queue_age)
        except Overloaded as exc:
            answer = ("overloaded", ident, exc.retry_after)
        except WriterStopped as exc:
            answer = ("stopped", ident, str(exc))
        except Exception as exc:  # the commit failed: nothing of this batch is acknowledged
            answer = ("failed", ident, f"{type(exc).__name__}: {exc}")
        if not writer.is_closing():
            writer.write(_frame(answer))

    async def _push_status(self) -> None:
        while True:
            await asyncio.sleep(STATUS_INTERVAL)
            try:
                keys = self._active_keys()
            except Exception:  # the store is busy or closing; the workers keep the last keys
                log.debug("could not read the write keys", exc_info=True)
                keys = self._keys
            frames = []
            queue_age = self.ingest.queue_age
            if queue_age or self._queue_age:  # behind, or no longer behind
                frames.append(_frame(("status", queue_age)))
            self._queue_age = queue_age
            if keys != self._keys:
                self._keys = keys
                frames.append(_frame(("keys", keys)))
            if not frames:
                continue
            for writer in list(self._writers):
                if not writer.is_closing():
                    writer.write(b"".join(frames))


# -- a worker's side -------------------------------------------------------------------------
class MirroredKeyRing:
    """The writer's active keys, as last pushed over the channel (a worker cannot read the
    store). A key created or revoked reaches the workers within `STATUS_INTERVAL` seconds."""

    def __init__(self) -> None:
        self._by_hash: dict[str, ApiKey] = {}

    def update(self, keys: dict[str, ApiKey]) -> None:
        self._by_hash = keys

    def lookup(self, key: str | None, kind: KeyKind) -> ApiKey | None:
        if not key:
            return None
        found = self._by_hash.get(hash_key(key))
        return found if found is not None and found.kind == kind else None

    def __len__(self) -> int:
        return len(self._by_hash)


class WriterLink:
    """A worker's end: `submit` like `Ingest.submit`, answered when the writer committed.

    Connects (and reconnects) to the writer's socket; while it is not connected, `submit`
    raises `WriterStopped` (503 with Retry-After), so no request waits on a writer that is
    gone.
    """

    def __init__(self, path: Path, *, max_queue_age: float = 2.0) -> None:
        self.path = path
        self.max_queue_age = max_queue_age
        self.keyring = MirroredKeyRing()
        self.queue_age = 0.0
        self.pending = 0
        self.commits = 0
        self.rows_committed = 0
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[AppendResult]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def linked(self, timeout: float = 30.0) -> AsyncIterator[WriterLink]:
        self._task = asyncio.create_task(self._run(), name="klantreis-writer-link")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            if self._writer is not None:
                self._writer.close()

    def admit(self) -> None:
        if self.queue_age > self.max_queue_age:
            raise Overloaded(retry_after=1)

    async def submit(
        self, rows: list[dict[str, Any]] | pa.Table, quarantined: list[dict[str, Any]] | None
    ) -> AppendResult:
        from klantreis.collect.ingest import event_table

        quarantined = quarantined or []
        if not len(rows) and not quarantined:
            return AppendResult()
        writer = self._writer
        if writer is None or writer.is_closing():
            raise WriterStopped("the store writer is not reachable")
        table = event_table(rows) if isinstance(rows, list) else rows
        ident = next(self._ids)
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        self.pending += len(table) + len(quarantined)
        try:
            writer.write(_frame(("submit", ident, table, quarantined)))
            return await future
        finally:
            self._waiting.pop(ident, None)
            self.pending -= len(table) + len(quarantined)

    async def _run(self) -> None:
        while True:
            try:
                reader, self._writer = await asyncio.open_unix_connection(str(self.path))
            except OSError:
                await asyncio.sleep(0.1)
                continue
            try:
                while True:
                    self._dispatch(await _read_frame(reader))
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                log.warning("lost the store writer (%s); reconnecting", type(exc).__name__)
            finally:
                self._connected.clear()
                self._writer.close()
                self._writer = None
                lost = WriterStopped("the store writer went away before it answered; retry")
                for future in self._waiting.values():
                    if not future.done():
                        future.set_exception(lost)
            await asyncio.sleep(0.1)

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "status":
            self.queue_age = message[1]
            return
        if kind == "keys":
            self.keyring.update(message[1])
            # Ready once the keys are known: before that every write key would be refused.
            self._connected.set()
            return
        future = self._waiting.get(message[1])
        if future is None or future.done():
            return
        if kind == "done":
            self.queue_age = message[3]
            self.commits += 1
            self.rows_committed += message[2].stored
            future.set_result(message[2])
        elif kind == "overloaded":
            future.set_exception(Overloaded(retry_after=message[2]))
        elif kind == "stopped":
            future.set_exception(WriterStopped(message[2]))
        else:
            future.set_exception(RuntimeError(message[2]))
