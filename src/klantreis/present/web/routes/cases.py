"""The inbox page: cases to act on, filtered by kind, status, owner and priority; assign,
resolve with a note, send the customer's message, one case or many at once.

Signed-in users only, every form with this session's CSRF token, like the Settings page; each
change is recorded in the case's notes as made by the signed-in user. Cases are read from the
`cases` table directly (no analysis to wait for), so the page is current after every change.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from klantreis.act.cases.inbox import (
    SORTS,
    CaseError,
    CaseFilter,
    Inbox,
    count_cases,
    counts,
    list_cases,
    owners,
)
from klantreis.act.cases.messages import templates
from klantreis.act.cases.rules import KINDS, PRIORITIES, STATUSES
from klantreis.api import Klantreis
from klantreis.present.web import terms
from klantreis.present.web.context import checked_form, get_store, render, viewer
from klantreis.present.web.i18n import Lang

router = APIRouter(include_in_schema=False)

KIND_WORDS = {
    "breach": "Broken promise",
    "at_risk": "Order at risk",
    "detractor": "Detractor",
    "negative_text": "Negative text",
    "unanswered": "Unanswered question",
}
STATUS_WORDS = {
    "open": "Open",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "no_action": "No action",
    "active": "Not closed",
}
PRIORITY_WORDS = {"high": "High", "normal": "Normal", "low": "Low"}
SORT_WORDS = {
    "due": "Soonest due first",
    "priority": "Highest priority first",
    "opened": "Newest first",
    "value": "Highest customer value first",
}
MESSAGE_WORDS = {
    "apology": "Apology",
    "delay_notice": "Delay notice",
    "review_reply": "Reply to a review",
    "detractor_follow_up": "Follow-up on a low score",
}
FILTERS = ("kind", "status", "owner", "priority")
PAGE = 50
"""Cases on one page of the inbox (at 10M events a shop had 594 open: one page of 500 was
1.1 MB of HTML and about a second to read and render); the others a click away."""

_UNANSWERED = re.compile(r"^no reply within ([\d.]+) h on (.+)$")
_AT_RISK = re.compile(r"^(not shipped|not delivered), (-?[\d.]+) h before the promised delivery$")
_NEGATIVE = re.compile(r"^(.+): sentiment (-?[\d.]+)$")


REASON_WORDS = (
    "no reply within {hours} h on {channel}",
    "not shipped, {hours} h before the promised delivery",
    "not delivered, {hours} h before the promised delivery",
    "{text}: sentiment {score}",
)
"""The reasons' shapes, looked up in the catalogues."""


NOTE_WORDS = {
    "resolved": "resolved",
    "no action": "closed: no action needed",
    "assigned to {owner}": "assigned to {owner}",
    "message {template} sent by {channel}": "message “{template}” sent by {channel}",
}
"""The notes klantreis writes itself (`act/cases/inbox.py`), in the reader's words."""
_ASSIGNED = re.compile(r"^assigned to (.+)$", re.S)
_SENT = re.compile(r"^message (\S+) sent by (e-mail|webhook)$")


def note_text(text: str, lang: Lang) -> str:
    """A note as the reader reads it: klantreis' own in their language, a person's as written."""
    if text in ("resolved", "no action"):
        return lang.gettext(NOTE_WORDS[text])
    if found := _ASSIGNED.match(text):
        return lang.gettext(NOTE_WORDS["assigned to {owner}"], owner=found.group(1))
    if found := _SENT.match(text):
        message = lang.gettext(MESSAGE_WORDS.get(found.group(1), found.group(1)))
        channel = (
            terms.term("channel", "e-mail", lang.code)
            if found.group(2) == "e-mail"
            else ("webhook")
        )
        return lang.gettext(
            NOTE_WORDS["message {template} sent by {channel}"], template=message, channel=channel
        )
    return text


def reason_text(case: dict[str, Any], lang: Lang) -> str:
    """Why the case was opened, in the reader's words (the stored reason is English text made
    by `act/cases/opening.py` in a few fixed shapes; anything else is shown as a detail)."""
    reason = str(case.get("reason") or "")
    if found := _UNANSWERED.match(reason):
        return lang.gettext(
            "no reply within {hours} h on {channel}",
            hours=lang.num(float(found.group(1))),
            channel=terms.term("channel", found.group(2), lang.code),
        )
    if found := _AT_RISK.match(reason):
        text = (
            "not shipped, {hours} h before the promised delivery"
            if found.group(1) == "not shipped"
            else "not delivered, {hours} h before the promised delivery"
        )
        return lang.gettext(text, hours=lang.num(float(found.group(2))))
    if found := _NEGATIVE.match(reason):
        return lang.gettext(
            "{text}: sentiment {score}",
            text=terms.term("event", found.group(1), lang.code),
            score=lang.num(float(found.group(2)), 2),
        )
    return terms.detail(reason, lang.code)


def _filter(params: Any) -> CaseFilter:
    """The page's filters from its query (unknown values are ignored, not an error page)."""
    chosen = {name: (params.get(name) or None) for name in FILTERS}
    if chosen["kind"] not in (None, *KINDS):
        chosen["kind"] = None
    if chosen["priority"] not in (None, *PRIORITIES):
        chosen["priority"] = None
    status = params.get("status", "active")
    chosen["status"] = status if status in (*STATUSES, "active") else None
    sort = params.get("sort") or "due"
    return CaseFilter(
        kind=chosen["kind"],
        status=chosen["status"],
        owner=chosen["owner"],
        priority=chosen["priority"],
        limit=PAGE,
        sort=sort if sort in SORTS else "due",
    )


def _page_number(params: Any) -> int:
    """The page asked for (`page`, from 1); anything else is the first."""
    try:
        return max(1, int(params.get("page") or 1))
    except ValueError:
        return 1


def _paging(request: Request, where: CaseFilter, total: int) -> tuple[CaseFilter, dict[str, Any]]:
    """The filter of this page's cases, which they are (`first`-`last` of `total`) and the
    links to the pages before and after it, with the same filters and sort."""
    pages = max(1, -(-total // PAGE))
    number = min(_page_number(request.query_params), pages)
    where = replace(where, offset=(number - 1) * PAGE)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def link(to: int) -> str:
        return "/cases?" + urlencode([*kept, ("page", str(to))])

    return where, {
        "number": number,
        "pages": pages,
        "total": total,
        "first": where.offset + 1 if total else 0,
        "last": min(where.offset + PAGE, total),
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
    }


def _currency(kr: Klantreis) -> str | None:
    """The currency the stored customer values are in (None: a plain number)."""
    from klantreis.measure.value.table import stored_fit

    fit = stored_fit(kr)
    return fit.currency if fit is not None else None


def unopened_note(lang: Lang, every: float | None) -> str:
    """What the inbox says while no case was ever opened: nothing has looked at the
    signals yet, and what does (the routine on its own, or the command)."""
    if every is None:
        return lang.gettext(
            "No case has been opened yet: nothing has looked for broken promises, orders at "
            "risk, detractors, negative texts or unanswered questions. Run `klantreis cases "
            "open` to open them (the server does not do it by itself here: its routine or the "
            "routine's inbox job is off)."
        )
    return lang.gettext(
        "No case has been opened yet: nothing has looked for broken promises, orders at risk, "
        "detractors, negative texts or unanswered questions. The server opens cases by itself "
        "every {interval} and right after each model refresh; `klantreis cases open` opens "
        "them now.",
        interval=lang.duration(every),
    )


def _page(request: Request, *, status: int = 200, error: str | None = None) -> Response:
    from klantreis.act.cases.opening import ever_opened
    from klantreis.present.web.board import routine_every

    who = viewer(request)
    kr = Klantreis.over(get_store(request), request.app.state.settings)
    where = _filter(request.query_params)
    where, paging = _paging(request, where, count_cases(kr, where))
    counted = counts(kr)
    unopened = None
    if not any(counted.values()) and not ever_opened(kr):
        unopened = unopened_note(who.lang, routine_every(request.app, "inbox"))
    return render(
        request,
        who,
        "cases.html",
        status=status,
        error=error,
        unopened=unopened,
        cases=[_shown(c, who.lang) for c in list_cases(kr, where)],
        where=where,
        paging=paging,
        counts=counted,
        owners=owners(kr),
        kinds=KIND_WORDS,
        statuses=STATUS_WORDS,
        priorities=PRIORITY_WORDS,
        messages=MESSAGE_WORDS,
        templates=sorted(templates()),
        sorts=SORT_WORDS,
        currency=_currency(kr),
        query=request.url.query,
    )


def _shown(case: dict[str, Any], lang: Lang) -> dict[str, Any]:
    notes = [{**n, "text": note_text(str(n.get("text") or ""), lang)} for n in case["notes"]]
    return {**case, "reason_text": reason_text(case, lang), "notes": notes}


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request) -> Response:
    return _page(request)


@router.post("/cases")
async def case_action(request: Request) -> Response:
    """One form for every action: `action` (assign, resolve, no_action, send, note) on the
    checked `case_id`s, then back to the same filtered inbox."""
    who = viewer(request)
    form = await checked_form(request, who)
    case_ids = [v for v in (await request.form()).getlist("case_id") if isinstance(v, str)]
    assert who.user is not None
    inbox = Inbox(
        Klantreis.over(get_store(request), request.app.state.settings), by=who.user.username
    )
    action = form.get("action", "")
    note = form.get("note") or None
    try:
        if not case_ids:
            raise CaseError("tick at least one case", field="case_id")
        if action == "assign":
            inbox.assign(case_ids, form.get("owner", ""), note=note)
        elif action in ("resolve", "no_action"):
            outcome = "no_action" if action == "no_action" else "resolved"
            inbox.resolve(case_ids, note=note, outcome=outcome)
        elif action == "send":
            for case_id in case_ids:
                inbox.send(case_id, via=form.get("via", "email"), template=form.get("template"))
        elif action == "note":
            for case_id in case_ids:
                inbox.note(case_id, form.get("note", ""))
        else:
            raise CaseError(f"{action!r} is not an action of the inbox", field="action")
    except CaseError as exc:
        return _page(request, status=400, error=str(exc))
    back = {k: v for k, v in request.query_params.items() if k in (*FILTERS, "sort", "page")}
    return RedirectResponse("/cases" + (f"?{urlencode(back)}" if back else ""), status_code=303)
