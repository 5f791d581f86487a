"""The inbox over HTTP: read cases with a read key (or a dashboard login), change them with a
write key; and the service-recovery figures (`GET /api/recovery`).

Every change is recorded in the case's notes as made by `key:<name>` of the write key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from klantreis.act.cases.inbox import MAX_NOTE, MAX_OWNER, CaseFilter, Inbox, list_cases
from klantreis.api import Klantreis
from klantreis.measure.recovery import RecoveryQuery
from klantreis.present.api.deps import ReadAccess, StoreDep, WriteKey

router = APIRouter(prefix="/api", tags=["cases"])

Note = Annotated[str | None, Field(None, max_length=MAX_NOTE, description="A note to keep.")]


class AssignBody(BaseModel):
    owner: str = Field(min_length=1, max_length=MAX_OWNER, description="Who takes the cases.")
    note: Note = None


class ResolveBody(BaseModel):
    outcome: Literal["resolved", "no_action"] = "resolved"
    note: Note = None


class BulkAssignBody(AssignBody):
    case_ids: list[str] = Field(min_length=1, max_length=1000)


class BulkResolveBody(ResolveBody):
    case_ids: list[str] = Field(min_length=1, max_length=1000)


class NoteBody(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_NOTE)


class SendBody(BaseModel):
    via: Literal["email", "webhook"] = "email"
    template: str | None = Field(None, description="The message (default: the case rule's).")


def _kr(request: Request, store: StoreDep) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


def _inbox(request: Request, store: StoreDep, key: Any) -> Inbox:
    return Inbox(_kr(request, store), by=f"key:{key.name}")


@router.get("/cases", response_model=None)
def cases(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    kind: str | None = Query(None, description="breach, at_risk, detractor, ..."),
    status: str | None = Query(None, description="open, in_progress, resolved, no_action, active"),
    owner: str | None = Query(None, description="Only this owner's cases."),
    priority: str | None = Query(None, description="high, normal or low."),
    person: str | None = Query(None, description="A person or user id."),
    sort: str = Query(
        "due", description="due, priority, opened or value (the customer value, highest first)."
    ),
    limit: int = Query(200, ge=1, le=10_000, description="Cases to return."),
) -> list[dict[str, Any]]:
    """Cases, soonest due first (the same as `klantreis cases list --json`)."""
    where = CaseFilter(kind, status, owner, priority, person, limit, sort)
    return list_cases(_kr(request, store), where)


@router.get("/cases/{case_id}", response_model=None)
def case(request: Request, store: StoreDep, _who: ReadAccess, case_id: str) -> dict[str, Any]:
    """One case with its notes."""
    return Inbox(_kr(request, store)).show(case_id)


@router.post("/cases/open", response_model=None)
def open_cases(request: Request, store: StoreDep, key: WriteKey) -> dict[str, Any]:
    """Open cases from new signals now (the routine does it every five minutes)."""
    run = _inbox(request, store, key).open()
    return {"opened": run.opened, "signals": run.signals, "skipped": run.skipped}


@router.post("/cases/assign", response_model=None)
def assign_many(
    request: Request, store: StoreDep, key: WriteKey, body: BulkAssignBody
) -> list[dict[str, Any]]:
    """Give several cases to someone (all or none)."""
    return _inbox(request, store, key).assign(body.case_ids, body.owner, note=body.note)


@router.post("/cases/resolve", response_model=None)
def resolve_many(
    request: Request, store: StoreDep, key: WriteKey, body: BulkResolveBody
) -> list[dict[str, Any]]:
    """Close several cases (all or none)."""
    return _inbox(request, store, key).resolve(body.case_ids, note=body.note, outcome=body.outcome)


@router.post("/cases/{case_id}/assign", response_model=None)
def assign(
    request: Request, store: StoreDep, key: WriteKey, case_id: str, body: AssignBody
) -> dict[str, Any]:
    """Give a case to someone (an open case becomes in progress)."""
    changed: list[dict[str, Any]] = _inbox(request, store, key).assign(
        [case_id], body.owner, note=body.note
    )
    return changed[0]


@router.post("/cases/{case_id}/resolve", response_model=None)
def resolve(
    request: Request, store: StoreDep, key: WriteKey, case_id: str, body: ResolveBody
) -> dict[str, Any]:
    """Close a case as resolved or as needing no action, with a note."""
    changed: list[dict[str, Any]] = _inbox(request, store, key).resolve(
        [case_id], note=body.note, outcome=body.outcome
    )
    return changed[0]


@router.post("/cases/{case_id}/notes", response_model=None)
def note(
    request: Request, store: StoreDep, key: WriteKey, case_id: str, body: NoteBody
) -> dict[str, Any]:
    """Add a note to a case."""
    return _inbox(request, store, key).note(case_id, body.note)


@router.post("/cases/{case_id}/send", response_model=None)
def send(
    request: Request, store: StoreDep, key: WriteKey, case_id: str, body: SendBody
) -> dict[str, Any]:
    """Send the case's customer its transactional message by e-mail or to the webhook; the
    message becomes a `Case Message Sent` event."""
    return _inbox(request, store, key).send(case_id, via=body.via, template=body.template)


@router.get("/recovery", response_model=None)
def recovery(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[RecoveryQuery, Query()],
) -> dict[str, Any]:
    """Service recovery per expectation: acted on against left alone, with intervals."""
    result: dict[str, Any] = _kr(request, store).run("recovery", query).as_json()
    return result
