"""What every dashboard request needs: the store, the signed-in user, the language, templates.

The dashboard runs inside the collector's server process and shares its Store (DuckDB allows
one writing process per file); it only falls back to opening the store itself when the app was
built without one (a bare `create_app` in tests).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from klantreis.present.web import auth, i18n, security, terms
from klantreis.store import Store

SESSION_COOKIE = "kr_session"
PRE_LOGIN_COOKIE = "kr_pre"
LANG_COOKIE = "kr_lang"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""No inline scripts: data reaches JavaScript as JSON in non-executing script tags."""

templates = Environment(
    loader=PackageLoader("klantreis.present.web", "templates"),
    autoescape=select_autoescape(["html", "svg", "xml"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

templates.globals["languages"] = i18n.LANGUAGE_NAMES


def cell(value: Any) -> str:
    """A table cell as text (lists and dicts shortened), escaped later by autoescape."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 140 else text[:139] + "…"


templates.globals["cell"] = cell


def _code(ctx: Context) -> str:
    lang = ctx.get("t")
    return lang.code if isinstance(lang, i18n.Lang) else i18n.DEFAULT_LOCALE


@pass_context
def _term(ctx: Context, key: Any, kind: str, default: str | None = None) -> str:
    """`{{ e.event|term('event') }}`: a vocabulary word in the page's language (`default`,
    e.g. a custom rule's own title, when the catalogue does not know `key`)."""
    if default is not None and not terms.known(kind, key):
        return default
    return terms.term(kind, key, _code(ctx))


@pass_context
def _reason(ctx: Context, text: str | None) -> str:
    return terms.reason(text, _code(ctx))


@pass_context
def _margin(ctx: Context, text: str | None) -> str:
    return terms.margin(text, _code(ctx))


@pass_context
def _detail(ctx: Context, text: Any) -> str:
    return terms.detail(text, _code(ctx))


@pass_context
def _opportunity(ctx: Context, text: str | None) -> str:
    return terms.opportunity(text, _code(ctx))


templates.filters.update(
    term=_term, reason=_reason, margin=_margin, opportunity=_opportunity, detail=_detail
)

_open_lock = threading.Lock()


class LoginRequired(Exception):
    """Raised by pages when nobody is signed in; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def store_of(app: Any) -> Store:
    state = app.state
    for name in ("store", "web_store"):
        store = getattr(state, name, None)
        if isinstance(store, Store):
            return store
    with _open_lock:
        if getattr(state, "web_store", None) is None:
            state.web_store = Store.configured(state.settings)
    return state.web_store  # type: ignore[no-any-return]


def get_store(request: Request) -> Store:
    return store_of(request.app)


def get_secret(request: Request) -> str:
    secret = getattr(request.app.state, "web_secret", None)
    if secret is None:
        secret = security.secret_key(get_store(request))
        request.app.state.web_secret = secret
    return secret  # type: ignore[no-any-return]


@dataclass
class Viewer:
    """The person looking at the page (or a share-link visitor, with `user` None)."""

    user: auth.User | None
    lang: i18n.Lang
    csrf: str
    binding: str
    new_pre_cookie: str | None = None

    @property
    def t(self) -> i18n.Lang:
        return self.lang


def resolve_user(request: Request) -> auth.User | None:
    """The signed-in dashboard user of a request (also the API's session resolver)."""
    return auth.session_user(get_store(request), request.cookies.get(SESSION_COOKIE))


def viewer(request: Request, *, require_login: bool = True) -> Viewer:
    import secrets

    user = resolve_user(request)
    if require_login and user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    code = (
        (user.locale if user else None)
        or request.cookies.get(LANG_COOKIE)
        or i18n.negotiate(request.headers.get("accept-language"))
    )
    if code not in i18n.LOCALES:
        code = i18n.DEFAULT_LOCALE
    session = request.cookies.get(SESSION_COOKIE) if user else None
    pre = request.cookies.get(PRE_LOGIN_COOKIE)
    new_pre = None
    if session is None and not pre:
        pre = new_pre = secrets.token_urlsafe(24)
    binding = session or pre or ""
    return Viewer(
        user, i18n.Lang(code), security.csrf_token(get_secret(request), binding), binding, new_pre
    )


def secure_cookies(request: Request) -> bool:
    """Secure cookies except for plain HTTP to this machine itself (local development, tests).

    `[web] secure_cookies = true|false` in klantreis.toml overrides the guess, e.g. behind a
    proxy that terminates TLS.
    """
    from klantreis.present.web.settings import web_settings

    setting = web_settings(request.app).secure_cookies
    if setting is not None:
        return setting
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host not in {"127.0.0.1", "localhost", "::1"}


def render(
    request: Request, who: Viewer, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    page = templates.get_template(template).render(
        request=request,
        viewer=who,
        t=who.lang,
        _=who.lang.gettext,
        lake=lake_note(request.app),
        **context,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if who.new_pre_cookie:
        response.set_cookie(
            PRE_LOGIN_COOKIE,
            who.new_pre_cookie,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
    return response


@dataclass(frozen=True)
class LakeNote:
    """What a lake's dashboard says under a page's title: when the scheduled jobs last stored
    the tables its figures come from, and whether events were collected since the model."""

    stored_at: Any
    behind: bool
    notice: str | None = None
    """What every page says instead of its figures while no job has built the model into
    the lake (`lake_reader.NOT_BUILT`, translated): a page's analyses fail for want of it,
    and their error boxes are left out (`_error.html`)."""


def lake_note(app: Any) -> LakeNote | None:
    if not getattr(app.state, "lake_dashboard", False):
        return None
    from klantreis.store.lake_reader import NOT_BUILT, reader_for

    reader = reader_for(app.state.settings)
    notice = None if reader.get_state("model_fingerprint") else NOT_BUILT
    return LakeNote(reader.stored_at(), reader.behind(), notice)


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="")


class CsrfRejected(Exception):
    """A form came back without this session's CSRF token."""


async def checked_form(request: Request, who: Viewer) -> dict[str, str]:
    """The posted form, after checking its CSRF token against this browser's cookie."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not security.csrf_ok(
        get_secret(request), who.binding, sent if isinstance(sent, str) else None
    ):
        raise CsrfRejected()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def safe_next(url: str | None) -> str:
    """Only same-site paths as redirect targets (no open redirect to `//evil` or `https:`)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/map"
    return url
