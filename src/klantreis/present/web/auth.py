"""Dashboard users and their login sessions.

Passwords are stored as scrypt hashes (the standard library's memory-hard KDF, so no extra
dependency); a login session is a random token in an HttpOnly cookie whose SHA-256 is kept in the
store, so logging out or deleting a user ends the session on the server, and a stolen store file
holds no working session. Dashboard users are staff, not customers: the tables hold no person ids.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from klantreis.store import Store
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

SESSION_LIFETIME = timedelta(days=14)
LOCALES = ("nl", "en", "da")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_NO_USER_HASH = "scrypt$" + "00" * 16 + "$" + "00" * 64
"""Checked against when the name is unknown, so a wrong name costs one scrypt like a wrong
password does (hashing a fresh password there cost two, and told which names exist)."""

register_table(
    TableSpec(
        "web_users",
        """CREATE TABLE IF NOT EXISTS web_users (
    username VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,
    locale VARCHAR,
    created_at TIMESTAMP NOT NULL
)""",
    )
)
register_table(
    TableSpec(
        "web_sessions",
        """CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
)""",
    )
)


class UserError(ValueError):
    """A user operation the person at the keyboard can fix (duplicate name, short password)."""


@dataclass(frozen=True)
class User:
    username: str
    locale: str | None
    created_at: datetime


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _ensure(store: Store) -> None:
    if not store.read_only:
        store.ensure_tables()


def create_user(store: Store, username: str, password: str, locale: str | None = None) -> User:
    username = username.strip()
    if not username:
        raise UserError("a user needs a name")
    if len(password) < 8:
        raise UserError("the password needs at least 8 characters")
    if locale is not None and locale not in LOCALES:
        raise UserError(f"locale {locale!r}; use one of {', '.join(LOCALES)}")
    _ensure(store)
    if get_user(store, username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username, locale, utcnow())
    with store.write_lock:
        store.engine.execute(
            Query(
                "INSERT INTO web_users (username, password_hash, locale, created_at) "
                "VALUES (:username, :password_hash, :locale, :created_at)",
                username=username,
                password_hash=hash_password(password),
                locale=locale,
                created_at=user.created_at,
            )
        )
    return user


def get_user(store: Store, username: str) -> User | None:
    if not store.engine.has_table("web_users"):
        return None
    rows = store.engine.rows(
        Query(
            "SELECT username, locale, created_at FROM web_users WHERE username = :username",
            username=username,
        )
    )
    return User(**rows[0]) if rows else None


def list_users(store: Store) -> list[User]:
    if not store.engine.has_table("web_users"):
        return []
    rows = store.engine.rows(
        Query("SELECT username, locale, created_at FROM web_users ORDER BY username")
    )
    return [User(**row) for row in rows]


def delete_user(store: Store, username: str) -> None:
    """Remove a user and end every session they have."""
    if get_user(store, username) is None:
        raise UserError(f"no user {username!r}; see `klantreis users list`")
    with store.write_lock:
        store.engine.execute(Query("DELETE FROM web_sessions WHERE username = :u", u=username))
        store.engine.execute(Query("DELETE FROM web_users WHERE username = :u", u=username))


def set_locale(store: Store, username: str, locale: str) -> None:
    if locale not in LOCALES:
        raise UserError(f"locale {locale!r}; use one of {', '.join(LOCALES)}")
    with store.write_lock:
        store.engine.execute(
            Query(
                "UPDATE web_users SET locale = :locale WHERE username = :u",
                locale=locale,
                u=username,
            )
        )


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user if the password matches; the same work is done for unknown names."""
    row = None
    if store.engine.has_table("web_users"):
        rows = store.engine.rows(
            Query(
                "SELECT username, locale, created_at, password_hash FROM web_users "
                "WHERE username = :u",
                u=username.strip(),
            )
        )
        row = rows[0] if rows else None
    stored = row.pop("password_hash") if row else _NO_USER_HASH
    ok = verify_password(password, stored)
    return User(**row) if ok and row else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, username: str) -> str:
    """A new session token for the cookie; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.write_lock:
        store.engine.execute(Query("DELETE FROM web_sessions WHERE expires_at <= :now", now=now))
        store.engine.execute(
            Query(
                "INSERT INTO web_sessions (token_hash, username, created_at, expires_at) "
                "VALUES (:h, :u, :now, :expires)",
                h=_token_hash(token),
                u=username,
                now=now,
                expires=now + SESSION_LIFETIME,
            )
        )
    return token


def session_user(store: Store, token: str | None) -> User | None:
    if not token or not store.engine.has_table("web_sessions"):
        return None
    rows = store.engine.rows(
        Query(
            "SELECT u.username, u.locale, u.created_at FROM web_sessions s "
            "JOIN web_users u ON u.username = s.username "
            "WHERE s.token_hash = :h AND s.expires_at > :now",
            h=_token_hash(token),
            now=utcnow(),
        )
    )
    return User(**rows[0]) if rows else None


def end_session(store: Store, token: str | None) -> None:
    if not token:
        return
    with store.write_lock:
        store.engine.execute(
            Query("DELETE FROM web_sessions WHERE token_hash = :h", h=_token_hash(token))
        )
