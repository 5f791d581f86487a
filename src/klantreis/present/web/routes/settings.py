"""Settings: API keys (create, revoke), the journey definition and expectation thresholds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from klantreis.collect.keys import ApiKeyError, create_key, list_keys, revoke_key
from klantreis.measure.expectations.kinds import kind_of
from klantreis.measure.expectations.kinds.base import Quantity
from klantreis.measure.expectations.rules import Rule
from klantreis.measure.expectations.ruleset import ExpectationSettings, active_rules
from klantreis.model.build import configured_definition
from klantreis.model.definition import load_definition
from klantreis.present.api.routine import job_rows
from klantreis.present.web import terms
from klantreis.present.web.board import Board
from klantreis.present.web.context import checked_form, get_store, render, viewer
from klantreis.present.web.i18n import Lang

router = APIRouter(include_in_schema=False)

JOB_NAMES = {
    "model": "Journey model",
    "voice": "Voice scoring",
    "cases": "Expectation cases",
    "inbox": "Case inbox",
    "alerts": "Alerts",
    "review_requests": "Review requests",
    "dashboard": "Dashboard pages",
}
"""The routine's jobs as the Settings page names them (translated in the catalogues)."""


def _context(request: Request, lang: Lang) -> dict[str, Any]:
    store = get_store(request)
    board = Board(request.app.state.settings, store)
    definition = load_definition(configured_definition(board.kr))
    thresholds, threshold_error = expectation_thresholds(request, lang)
    return {
        "jobs": job_rows(board.kr),
        "job_names": JOB_NAMES,
        "keys": list_keys(store),
        "definition": definition,
        "thresholds": thresholds,
        "threshold_error": threshold_error,
    }


def _value(value: Any, lang: Lang) -> str:
    """A phrase value in the reader's words: durations, numbers (with unit) or text."""
    if isinstance(value, timedelta):
        return _duration(value, lang)
    if isinstance(value, Quantity):
        return f"{lang.num(value.value)} {value.unit}".strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return lang.num(value)
    return str(value)


def _threshold(rule: Rule, lang: Lang) -> str:
    """The rule's measurable limit as its kind words it, in the reader's language (durations
    as 1 day, 5 min); the kind's name when it has no limit to state (a rate)."""
    kind = kind_of(rule)
    parts = [
        terms.term("rule_phrase", phrase.text, lang.code).format(
            **{name: _value(v, lang) for name, v in phrase.values.items()}
        )
        for phrase in kind.threshold(rule)
    ]
    return ", ".join(parts) or kind.label(lang.code)


def _duration(value: timedelta, lang: Lang) -> str:
    """Exact, in the largest whole unit (`1 day`, `5 minutes`), as the rule was written."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return terms.duration(f"{seconds // size}{unit}", lang.code)
    return terms.duration(f"{seconds}s", lang.code)


def expectation_thresholds(request: Request, lang: Lang) -> tuple[list[dict[str, Any]], str | None]:
    """The active expectation rules (defaults, the shop's files, klantreis.toml)."""
    try:
        rules = active_rules(ExpectationSettings.from_settings(request.app.state.settings))
    except ValueError as exc:
        return [], str(exc)
    return [
        {
            **rule.model_dump(),
            "kind_label": kind_of(rule).label(lang.code),
            "threshold": _threshold(rule, lang),
        }
        for rule in rules
    ], None


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request) -> Response:
    who = viewer(request)
    return render(request, who, "settings.html", **_context(request, who.lang))


@router.get("/settings/keys")
def back_to_settings() -> Response:
    """A reload or a language switch after creating a key lands on the settings page."""
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/keys", response_class=HTMLResponse)
async def create_key_form(request: Request) -> Response:
    who = viewer(request)
    form = await checked_form(request, who)
    kind: Literal["read", "write"] = "read" if form.get("kind") == "read" else "write"
    try:
        record, secret = create_key(get_store(request), form.get("name", ""), kind)
    except ApiKeyError as exc:
        return render(
            request, who, "settings.html", status=400, error=str(exc), **_context(request, who.lang)
        )
    keyring = getattr(request.app.state, "keyring", None)
    if keyring is not None:
        keyring.reload()
    return render(
        request,
        who,
        "settings.html",
        new_key=secret,
        new_key_name=record.name,
        **_context(request, who.lang),
    )


@router.post("/settings/keys/revoke")
async def revoke_key_form(request: Request) -> Response:
    who = viewer(request)
    form = await checked_form(request, who)
    try:
        revoke_key(get_store(request), form.get("key_id", ""))
    except ApiKeyError as exc:
        return render(
            request, who, "settings.html", status=400, error=str(exc), **_context(request, who.lang)
        )
    keyring = getattr(request.app.state, "keyring", None)
    if keyring is not None:
        keyring.reload()
    return RedirectResponse("/settings", status_code=303)
