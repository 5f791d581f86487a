"""Write keys (for sending events) and read keys (for the API and dashboard data).

Keys are bearer secrets, so only their SHA-256 is stored: a stolen store file does not hand out
working keys. A plain hash (not a slow password hash) is enough because the keys are 192 random
bits, not something a person chose. The server keeps a `KeyRing` in memory so checking a key on
every collector request costs one dict lookup, not a query.

A lake's collectors (`[store] kind = "lake"`) never open the state file: DuckDB lets one
process write a file and no other open it meanwhile, and the CLI's analyses write there. They
read the write keys' hashes from the lake instead (`publish_keys`, `lake/_keys.json`), written
by `klantreis keys create|revoke`, and pick up a change within `reload_interval` seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import orjson

from klantreis.errors import KlantreisError
from klantreis.store import Store
from klantreis.store.lake import Lake, replace_durably
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

KeyKind = Literal["write", "read"]
KEY_PREFIX: dict[str, str] = {"write": "krw_", "read": "krr_"}

API_KEYS = register_table(
    TableSpec(
        "api_keys",
        """CREATE TABLE IF NOT EXISTS api_keys (
    key_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL UNIQUE,
    hint VARCHAR,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
)""",
    )
)


class ApiKeyError(KlantreisError):
    """A key operation the user can fix (unknown key, empty name)."""


KeyError_ = ApiKeyError
"""The first name of `ApiKeyError`, still imported by the dashboard's settings page."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    kind: KeyKind
    hint: str
    created_at: datetime
    revoked_at: datetime | None = None


_changes = 0
"""Bumped by every create/revoke in this process, so a running server's `KeyRing` reloads at
once when the dashboard adds or revokes a key (other processes cannot write while it runs)."""


def _changed() -> None:
    global _changes
    _changes += 1


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(store: Store, name: str, kind: KeyKind = "write") -> tuple[ApiKey, str]:
    """A new key named `name`; returns its record and the secret (shown once, never stored)."""
    name = name.strip()
    if not name:
        raise ApiKeyError("a key needs a --name")
    if kind not in KEY_PREFIX:
        raise ApiKeyError(f"key kind {kind!r}; use 'write' or 'read'")
    secret = KEY_PREFIX[kind] + secrets.token_urlsafe(24)
    record = ApiKey(uuid.uuid4().hex[:12], name, kind, secret[:8] + "…", utcnow())
    store.ensure_tables()
    with store.write_lock:
        store.engine.execute(
            Query(
                "INSERT INTO api_keys (key_id, name, kind, key_hash, hint, created_at) "
                "VALUES (:key_id, :name, :kind, :key_hash, :hint, :created_at)",
                key_id=record.key_id,
                name=record.name,
                kind=record.kind,
                key_hash=hash_key(secret),
                hint=record.hint,
                created_at=record.created_at,
            )
        )
    _changed()
    return record, secret


def list_keys(store: Store) -> list[ApiKey]:
    if not store.engine.has_table("api_keys"):
        return []
    rows = store.engine.fetch(
        Query(
            "SELECT key_id, name, kind, hint, created_at, revoked_at FROM api_keys "
            "ORDER BY created_at, key_id"
        )
    ).to_pylist()
    return [ApiKey(**row) for row in rows]


def revoke_key(store: Store, key_id_or_name: str) -> list[ApiKey]:
    """Revoke the key with this id, or every active key with this name."""
    active = [k for k in list_keys(store) if k.revoked_at is None]
    chosen = [k for k in active if k.key_id == key_id_or_name] or [
        k for k in active if k.name == key_id_or_name
    ]
    if not chosen:
        raise ApiKeyError(f"no active key with id or name {key_id_or_name!r}; see `keys list`")
    now = utcnow()
    with store.write_lock:
        for key in chosen:
            store.engine.execute(
                Query(
                    "UPDATE api_keys SET revoked_at = :now WHERE key_id = :key_id",
                    now=now,
                    key_id=key.key_id,
                )
            )
    _changed()
    return chosen


def _active(store: Store) -> dict[str, ApiKey]:
    """The store's active keys by hash."""
    if not store.engine.has_table("api_keys"):
        return {}
    rows = store.engine.fetch(
        Query(
            "SELECT key_id, name, kind, hint, created_at, revoked_at, key_hash "
            "FROM api_keys WHERE revoked_at IS NULL"
        )
    ).to_pylist()
    return {row.pop("key_hash"): ApiKey(**row) for row in rows}


def publish_keys(store: Store, lake: Path) -> Path:
    """Write the store's active write keys (hashes, never secrets) to the lake, for its
    collectors; returns the file. Read keys stay out: collectors serve no read API."""
    rows = [
        {**asdict(key), "key_hash": digest}
        for digest, key in sorted(_active(store).items())
        if key.kind == "write"
    ]
    path = Lake(lake).keys_path
    replace_durably(path, orjson.dumps(rows))
    return path


def published_keys(path: Path) -> dict[str, ApiKey]:
    """The keys `publish_keys` wrote to `path`, by hash."""
    rows = orjson.loads(path.read_bytes())
    keys = {}
    for row in rows:
        digest = row.pop("key_hash")
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        row["revoked_at"] = None
        keys[digest] = ApiKey(**row)
    return keys


class KeyRing:
    """The active keys of a running server, by hash, reloaded from the store on demand.

    Keys created or revoked in this process (the dashboard's settings page) take effect on the
    next request. Otherwise an unknown key triggers at most one reload per `reload_interval`
    seconds, so a flood of bad keys cannot turn into a flood of queries. `published`: read the
    keys from that file (`publish_keys`) instead of a store; a change of the file (a key
    created or revoked by another process) is seen within `reload_interval` seconds.
    """

    def __init__(
        self,
        store: Store | None = None,
        reload_interval: float = 2.0,
        *,
        published: Path | None = None,
    ) -> None:
        if (store is None) == (published is None):
            raise ValueError("a KeyRing reads a store or a published file, one of them")
        self._store = store
        self._published = published
        self._seen: tuple[int, int, int] | None = None
        self._reload_interval = reload_interval
        self._lock = threading.Lock()
        self._by_hash: dict[str, ApiKey] = {}
        self._loaded_at = 0.0
        self._generation = -1
        self.reload()

    def _signature(self) -> tuple[int, int, int] | None:
        assert self._published is not None
        try:
            stat = self._published.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _file_changed(self) -> bool:
        """Whether the published file changed since it was read (a stat, at most once per
        `reload_interval`): how a revoked key stops working on a running collector."""
        if self._published is None:
            return False
        if time.monotonic() - self._loaded_at <= self._reload_interval:
            return False
        if self._signature() == self._seen:
            self._loaded_at = time.monotonic()
            return False
        return True

    def reload(self) -> None:
        generation = _changes
        if self._store is not None:
            keys = _active(self._store)
        else:
            assert self._published is not None
            seen = self._signature()
            keys = published_keys(self._published) if seen is not None else {}
            self._seen = seen
        with self._lock:
            self._by_hash = keys
            self._loaded_at = time.monotonic()
            self._generation = generation

    def lookup(self, key: str | None, kind: KeyKind) -> ApiKey | None:
        """The active key of this kind, or None."""
        if not key:
            return None
        if self._generation != _changes or self._file_changed():
            self.reload()
        digest = hash_key(key)
        found = self._by_hash.get(digest)
        if found is None and time.monotonic() - self._loaded_at > self._reload_interval:
            self.reload()
            found = self._by_hash.get(digest)
        return found if found is not None and found.kind == kind else None

    def active(self) -> dict[str, ApiKey]:
        """Every active key by hash (what the writer hands to `serve --workers N`'s HTTP
        processes); reloaded first when keys changed in this process."""
        if self._generation != _changes:
            self.reload()
        return dict(self._by_hash)

    def __len__(self) -> int:
        return len(self._by_hash)
