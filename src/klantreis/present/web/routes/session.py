"""Logging in and out, and choosing the interface language."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from klantreis.present.web import auth, i18n
from klantreis.present.web.context import (
    LANG_COOKIE,
    SESSION_COOKIE,
    checked_form,
    get_store,
    render,
    safe_next,
    secure_cookies,
    viewer,
)
from klantreis.present.web.routes.journey_map import warm
from klantreis.present.web.settings import web_settings
from klantreis.present.web.throttle import LoginThrottle

router = APIRouter(include_in_schema=False)


def login_throttle(app: FastAPI) -> LoginThrottle:
    """The app's one throttle, made from `[web]` settings on first use."""
    throttle = getattr(app.state, "login_throttle", None)
    if throttle is None:
        throttle = app.state.login_throttle = LoginThrottle.from_settings(web_settings(app))
    return throttle


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/login")
def login_page(request: Request, next: str = "/map") -> Response:
    who = viewer(request, require_login=False)
    return render(request, who, "login.html", next_url=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    who = viewer(request, require_login=False)
    form = await checked_form(request, who)
    store = get_store(request)
    username = form.get("username", "")
    address = request.client.host if request.client else "unknown"
    throttle = login_throttle(request.app)
    wait = throttle.retry_after(username, address)
    if wait is not None:
        response: Response = render(
            request,
            who,
            "login.html",
            status=429,
            error=who.lang.gettext(
                "Too many failed logins. Try again in {minutes} minutes.",
                minutes=max(1, round(wait / 60)),
            ),
            next_url=safe_next(form.get("next")),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = auth.authenticate(store, username, form.get("password", ""))
    if user is None:
        throttle.failed(username, address)
        return render(
            request,
            who,
            "login.html",
            status=401,
            error=who.lang.gettext("Wrong user name or password."),
            next_url=safe_next(form.get("next")),
        )
    token = auth.start_session(store, user.username)
    warm(request.app)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    who = viewer(request)
    await checked_form(request, who)
    auth.end_session(get_store(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
async def language(request: Request) -> Response:
    who = viewer(request, require_login=False)
    form = await checked_form(request, who)
    code = form.get("locale", "")
    if code not in i18n.LOCALES:
        code = i18n.DEFAULT_LOCALE
    if who.user is not None:
        auth.set_locale(get_store(request), who.user.username, code)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", secure=secure_cookies(request)
    )
    return response
