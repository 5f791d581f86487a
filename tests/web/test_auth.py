"""Login sessions, CSRF on every form, secure cookies, and the users command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from klantreis.present.cli.app import app
from klantreis.present.web import auth
from klantreis.store import Store
from web.shop import PASSWORD, csrf_of, login


def test_pages_need_a_login(client: TestClient) -> None:
    for url in (
        "/",
        "/map",
        "/expectations",
        "/funnels",
        "/voice",
        "/timeline",
        "/settings",
        "/map.svg",
    ):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")


def test_login_sets_an_httponly_session_and_logout_ends_it(client: TestClient) -> None:
    response = login(client)
    assert response.status_code == 303 and response.headers["location"] == "/map"
    cookie = response.headers["set-cookie"]
    assert "kr_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/map")
    assert page.status_code == 200 and "anna-admin" in page.text
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert client.get("/map", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused(client: TestClient) -> None:
    response = login(client, password="wrong password")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.text
    assert login(client, user="nobody").status_code == 401


def test_repeated_wrong_passwords_make_the_next_attempt_wait(client: TestClient) -> None:
    """Ten failures for one user name within 15 minutes (the default): the next attempt, even
    with the right password, gets 429 with Retry-After; other user names are not held up."""
    for _ in range(10):
        assert login(client, password="guess").status_code == 401
    refused = login(client)  # the right password, but too late
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins. Try again in 15 minutes." in refused.text
    assert "kr_session" not in refused.headers.get("set-cookie", "")
    assert login(client, user="bert", password="guess").status_code == 401  # not throttled


def test_the_address_limit_stops_guessing_across_user_names(store_path: Path) -> None:
    from klantreis.config import Settings
    from klantreis.present.api.app import create_app

    web = {"warm": False, "login_limit_per_address": "3/1minute"}
    app = create_app(Settings(store_path, sections={"web": web}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for name in ("a", "b", "c"):
            assert login(client, user=name, password="guess").status_code == 401
        assert login(client, user="d", password="guess").status_code == 429


def test_a_bad_login_limit_setting_is_named(store_path: Path) -> None:
    from klantreis.present.web.throttle import LoginThrottle

    with pytest.raises(ValueError, match="login_limit_per_user"):
        LoginThrottle.from_settings({"login_limit_per_user": "ten per hour"})


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "anna-admin", "password": PASSWORD})
    assert response.status_code == 403
    login(client)
    for url, data in (
        ("/logout", {}),
        ("/language", {"locale": "nl"}),
        ("/settings/keys", {"name": "shop"}),
        ("/map/share", {}),
        ("/settings/keys/revoke", {"key_id": "x"}),
    ):
        refused = client.post(url, data={**data, "csrf_token": "forged"})
        assert refused.status_code == 403, url
    assert client.get("/map").status_code == 200  # still logged in: logout was refused


def test_cookies_are_secure_beyond_this_machine(store_path: Path) -> None:
    from klantreis.config import Settings
    from klantreis.present.api.app import create_app

    app = create_app(Settings(store_path))
    with TestClient(app, base_url="https://shop.example") as remote:
        response = login(remote)
        assert "Secure" in response.headers["set-cookie"]


def test_open_redirect_after_login_is_refused(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "anna-admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/map"


def test_language_per_user_and_from_the_browser(client: TestClient) -> None:
    assert "Inloggen" in client.get("/login", headers={"Accept-Language": "nl-NL,nl"}).text
    assert "Log ind" in client.get("/login", headers={"Accept-Language": "da"}).text
    login(client)
    page = client.get("/map")
    client.post(
        "/language", data={"locale": "da", "csrf_token": csrf_of(page.text), "next": "/map"}
    )
    assert "Kunderejsekort" in client.get("/map").text


def test_deleting_a_user_ends_their_sessions(client: TestClient, store_path: Path) -> None:
    login(client)
    store = client.app.state.store
    auth.delete_user(store, "anna-admin")
    assert client.get("/map", follow_redirects=False).status_code == 303


def test_users_command(tmp_path: Path) -> None:
    store = tmp_path / "u.duckdb"
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["users", *args, "--store", str(store)])

    assert run("create", "bea", "--password", "long enough").exit_code == 0
    duplicate = run("create", "bea", "--password", "long enough")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.stderr
    short = run("create", "cas", "--password", "short")
    assert short.exit_code != 0 and "at least 8 characters" in short.stderr
    bad_locale = run("create", "cas", "--password", "long enough", "--locale", "fr")
    assert bad_locale.exit_code != 0 and "locale 'fr'" in bad_locale.stderr
    assert '"username": "bea"' in run("list", "--json").output
    assert run("delete", "bea").exit_code == 0
    missing = run("delete", "bea")
    assert missing.exit_code != 0 and "no user 'bea'" in missing.stderr
    with Store(store) as handle:
        assert auth.list_users(handle) == []


def test_passwords_are_stored_hashed(tmp_path: Path) -> None:
    with Store(tmp_path / "h.duckdb") as store:
        auth.create_user(store, "dirk", "s3cret-password")
        stored = store.connection.execute("SELECT password_hash FROM web_users").fetchone()[0]
        assert "s3cret-password" not in stored and stored.startswith("scrypt$")
        assert auth.authenticate(store, "dirk", "s3cret-password") is not None
        assert auth.authenticate(store, "dirk", "s3cret-passwore") is None


def test_expired_sessions_no_longer_count_and_are_cleared(tmp_path: Path) -> None:
    from klantreis.store.store import utcnow

    with Store(tmp_path / "s.duckdb") as store:
        auth.create_user(store, "eva", "long enough pw")
        token = auth.start_session(store, "eva")
        assert auth.session_user(store, token) is not None
        store.connection.execute("UPDATE web_sessions SET expires_at = ?", [utcnow()])
        assert auth.session_user(store, token) is None
        auth.start_session(store, "eva")
        assert store.connection.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 1


def test_an_unknown_name_costs_the_same_work_as_a_wrong_password(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Login time must not tell which user names exist: the probe measured a median of 0.039 s
    for a real name with a wrong password against 0.069 s for an unknown name, because the
    unknown name hashed a fresh password and then checked it (two scrypt runs, not one)."""
    import hashlib

    calls: list[int] = []
    scrypt = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return scrypt(*args, **kwargs)

    with Store(store_path) as store:
        monkeypatch.setattr(hashlib, "scrypt", counted)
        assert auth.authenticate(store, "anna-admin", "wrong password") is None
        known = len(calls)
        calls.clear()
        assert auth.authenticate(store, "nobody-here", "wrong password") is None
        unknown = len(calls)
    assert known == unknown == 1


def test_forwarded_for_is_believed_only_from_a_configured_proxy(store_path: Path) -> None:
    """A client on the same machine (as a probe from 127.0.0.1 was) must not reset the
    per-address limit by writing a new X-Forwarded-For on every guess."""
    import httpx
    from servers import NO_WARM_UP, Server

    def guesses(server: Server, prefix: str) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server.url) as client:
            for n in range(4):
                page = client.get("/login")
                response = client.post(
                    "/login",
                    data={
                        "username": f"{prefix}{n}",
                        "password": "guess",
                        "csrf_token": csrf_of(page.text),
                    },
                    headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
                )
                statuses.append(response.status_code)
        return statuses

    def config(extra: str) -> str:  # settings of the [web] section
        return NO_WARM_UP.replace(
            "[web]\n", '[web]\nlogin_limit_per_address = "3/1minute"\n' + extra
        )

    server = Server(store_path, config=config("")).start()
    try:
        assert guesses(server, "a") == [401, 401, 401, 429]
    finally:
        server.stop()
    # Behind a configured proxy each forwarded address has its own count.
    server = Server(store_path, config=config('trusted_proxies = ["127.0.0.1"]\n')).start()
    try:
        assert guesses(server, "b") == [401, 401, 401, 401]
    finally:
        server.stop()


def test_a_bad_trusted_proxy_is_named() -> None:
    from klantreis.config import ConfigError
    from klantreis.present.web.throttle import trusted_proxies

    assert trusted_proxies({}) == []
    assert trusted_proxies({"trusted_proxies": ["10.0.0.2", "10.1.0.0/16"]}) == [
        "10.0.0.2",
        "10.1.0.0/16",
    ]
    with pytest.raises(ConfigError, match=r"'proxy\.example' is not an address"):
        trusted_proxies({"trusted_proxies": ["proxy.example"]})
