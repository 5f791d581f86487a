"""FastAPI dependencies shared by every route: the open store and who may read or write.

    from klantreis.present.api.deps import ReadAccess, StoreDep

    @router.get("/api/funnel")
    def funnel(store: StoreDep, who: ReadAccess) -> ...: ...

`ReadAccess` lets a request through when it carries a valid *read* key (HTTP Basic user with an
empty password, or `Authorization: Bearer <key>`) or when the dashboard says it belongs to a
logged-in user. The dashboard plugs its session check in by setting

    app.state.session_user_resolver: Callable[[Request], str | None] | None

(in its `mount(app)`); it returns the user's name for a logged-in request, else None.
`WriteKey` is the collector's: a valid *write* key from HTTP Basic or Bearer.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from klantreis.collect.keys import ApiKey, KeyRing
from klantreis.config import StoreSettings
from klantreis.measure.contract import IsoDate
from klantreis.store import Store

SessionUserResolver = Callable[[Request], "str | None"]


def get_store(request: Request) -> Store:
    """The store this server process opened at start-up (one per process)."""
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        settings = getattr(request.app.state, "settings", None)
        if settings is not None and settings.section(StoreSettings).lake is not None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "this server only collects events into the lake: the read API and the "
                "dashboard are served by the shop's `klantreis serve --dashboard` "
                "(docs/scale-out.md)",
            )
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the store is not open")
    return store


def get_keyring(request: Request) -> KeyRing:
    keyring: KeyRing | None = getattr(request.app.state, "keyring", None)
    if keyring is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the store is not open")
    return keyring


def presented_key(authorization: str | None) -> str | None:
    """The key in an `Authorization` header: Basic user (password ignored) or Bearer token.

    For the collector, which reads the header itself on its fast path; routes take the key
    through `presented` (FastAPI's security classes) instead."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return None


_basic = HTTPBasic(
    auto_error=False, realm="klantreis", description="The key as user name, password empty."
)
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`.")


def presented(
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """The key a request presents (Bearer token, or HTTP Basic user), parsed by FastAPI's
    security classes, which also document both schemes in the OpenAPI description."""
    if bearer is not None:
        return bearer.credentials or None
    if basic is not None:
        return basic.username or None
    return None


PresentedKey = Annotated[str | None, Depends(presented)]


def require_read(request: Request, key_text: PresentedKey) -> str:
    """Who is reading: `key:<name>` for a read key, or the dashboard session's user name."""
    key = get_keyring(request).lookup(key_text, "read")
    if key is not None:
        return f"key:{key.name}"
    resolver: SessionUserResolver | None = getattr(request.app.state, "session_user_resolver", None)
    if resolver is not None:
        user = resolver(request)
        if user:
            return user
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "a read key is required (HTTP Basic user or `Authorization: Bearer <key>`; "
        "create one with `klantreis keys create --name NAME --read`) or a dashboard login",
        headers={"WWW-Authenticate": 'Basic realm="klantreis"'},
    )


def require_write_key(request: Request, key_text: PresentedKey) -> ApiKey:
    key = get_keyring(request).lookup(key_text, "write")
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or missing write key (HTTP Basic user, Bearer token or `writeKey`)",
            headers={"WWW-Authenticate": 'Basic realm="klantreis"'},
        )
    return key


StoreDep = Annotated[Store, Depends(get_store)]
ReadAccess = Annotated[str, Depends(require_read)]
WriteKey = Annotated[ApiKey, Depends(require_write_key)]

FromDate = Annotated[IsoDate, Query(alias="from", description="Only events from this ISO date")]
"""`?from=` of a read route that is not an analysis (an analysis's route takes the period from
its query model, `CutQuery`)."""
ToDate = Annotated[IsoDate, Query(alias="to", description="Only events before this ISO date")]
"""`?to=` of a read route that is not an analysis; both are checked like the query models'
period (`IsoDate`): a date that is no ISO date is a 422 naming the parameter."""
