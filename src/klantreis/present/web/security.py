"""Secrets of the dashboard: CSRF tokens for every form and signed read-only share links.

The signing secret is generated once per store and kept in its `meta` table, so tokens survive a
restart and differ between installations. Share links are signed with itsdangerous (a small,
well-kept library) and carry only the view's parameters, never data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from klantreis.store import Store

SECRET_META_KEY = "web.secret"
SHARE_SALT = "klantreis.share"
SHARE_MAX_AGE = 90 * 24 * 3600


class ShareLinkError(ValueError):
    """A share link that was altered or has expired."""


def secret_key(store: Store) -> str:
    """This store's signing secret, created on first use."""
    value = store.get_meta(SECRET_META_KEY)
    if value is None:
        value = secrets.token_hex(32)
        store.set_meta(SECRET_META_KEY, value)
    return value


def csrf_token(secret: str, binding: str) -> str:
    """The token every form of this browser session must send back.

    It is an HMAC of the session cookie (or of the pre-login cookie), so a page on another site
    can neither read nor compute it; hand-written because it is three lines on `hmac`.
    """
    return hmac.new(secret.encode(), b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, binding: str | None, sent: str | None) -> bool:
    if not binding or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), sent)


def sign_share(secret: str, params: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(secret, salt=SHARE_SALT).dumps(params)


def read_share(secret: str, token: str) -> dict[str, Any]:
    try:
        value = URLSafeTimedSerializer(secret, salt=SHARE_SALT).loads(token, max_age=SHARE_MAX_AGE)
    except SignatureExpired as exc:
        raise ShareLinkError("this share link has expired") from exc
    except BadSignature as exc:
        raise ShareLinkError("this share link is not valid") from exc
    if not isinstance(value, dict):
        raise ShareLinkError("this share link is not valid")
    return value
