"""The inbox: list, show, assign and resolve cases (CLI, Python, REST API and dashboard alike).

A case moves open → in_progress (when someone takes it) → resolved or no_action (closed, with
an optional note). Every change records who made it in the case's notes, a JSON list of
`{"at", "by", "text"}`; notes are customer-facing work and are erased with the person.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klantreis.act.cases.rules import CLOSED, KINDS, PRIORITIES, STATUSES
from klantreis.act.cases.table import CASES
from klantreis.errors import KlantreisError
from klantreis.store.query import Query
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from klantreis.model.context import Context

MAX_NOTE = 4000
MAX_OWNER = 100
SORTS = ("due", "priority", "opened", "value")


class CaseError(KlantreisError):
    """A case that does not exist, or a change its status does not allow."""


@dataclass(frozen=True)
class CaseFilter:
    """What the inbox shows: each field narrows, None lets everything through."""

    kind: str | None = None
    status: str | None = None
    owner: str | None = None
    priority: str | None = None
    person: str | None = None
    limit: int = 200
    sort: str = "due"
    offset: int = 0
    """Cases skipped before the first shown (the inbox page's later pages)."""

    def check(self) -> None:
        for name, value, allowed in (
            ("kind", self.kind, KINDS),
            ("status", self.status, (*STATUSES, "active")),
            ("priority", self.priority, PRIORITIES),
            ("sort", self.sort, SORTS),
        ):
            if value is not None and value not in allowed:
                raise CaseError(f"{value!r} is not one of {', '.join(allowed)}", field=name)
        if not 1 <= self.limit <= 10_000:
            raise CaseError("must be between 1 and 10000", field="limit")
        if self.offset < 0:
            raise CaseError("must be 0 or more", field="offset")


_WHERE = """
WHERE (CAST(:kind AS VARCHAR) IS NULL OR kind = :kind)
  AND (CAST(:owner AS VARCHAR) IS NULL OR owner = :owner)
  AND (CAST(:priority AS VARCHAR) IS NULL OR priority = :priority)
  AND (CAST(:status AS VARCHAR) IS NULL OR status = :status
       OR (:status = 'active' AND status NOT IN ('resolved', 'no_action')))
  AND (CAST(:person AS VARCHAR) IS NULL OR person_id = :person OR user_id = :person)
"""
_LIST = (
    """
SELECT c.*, CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END AS priority_rank,
       {value} AS customer_value
FROM cases AS c{join}"""
    + _WHERE
    + "ORDER BY\n"
)
_COUNT = "SELECT count(*) AS n FROM cases" + _WHERE  # noqa: S608 - fixed text, values bound
"""How many cases the filter lets through (the inbox page's pages)."""
_ORDER = {
    "due": "due_at NULLS LAST, priority_rank, opened_at, case_id",
    "priority": "priority_rank, due_at NULLS LAST, opened_at, case_id",
    "opened": "opened_at DESC, case_id",
    "value": "customer_value DESC NULLS LAST, due_at NULLS LAST, case_id",
}
_VALUES = (
    "v.customer_value",
    """
LEFT JOIN (SELECT person_id AS valued_person, coalesce(expected_revenue, revenue) AS customer_value
           FROM customer_values) AS v ON v.valued_person = c.person_id""",
)
"""The person's customer value (`measure/value`: expected future revenue, or revenue to date
under the RFM method), from the stored `customer_values` when the value job has run."""
_LISTS = {
    (sort, valued): _LIST.format(value=value, join=join) + f"{order}\nLIMIT :limit OFFSET :offset"
    for sort, order in _ORDER.items()
    for valued, (value, join) in ((True, _VALUES), (False, ("CAST(NULL AS DOUBLE)", "")))
}
"""One fixed query per sort order (and whether values are stored); filters are bound values."""


def _ready(kr: Context) -> bool:
    """Whether the inbox has its table, created the first time only: creating takes the
    store's write lock, which the routine's jobs hold while they write (minutes at 10M
    events), and the inbox page reads it three times a request."""
    if kr.engine.has_table("cases"):
        return True
    kr.store.register_table(CASES)
    return kr.engine.has_table("cases")


def _bound(where: CaseFilter) -> dict[str, Any]:
    """The filter's values for `_WHERE`'s parameters."""
    names = ("kind", "owner", "priority", "status", "person")
    return {name: getattr(where, name) for name in names}


def list_cases(kr: Context, where: CaseFilter | None = None) -> list[dict[str, Any]]:
    """Cases as the filter chooses, soonest due first (or by priority, or newest first)."""
    where = where or CaseFilter()
    where.check()
    if not _ready(kr):
        return []
    valued = kr.engine.has_table("customer_values")
    query = Query(
        _LISTS[where.sort, valued], limit=where.limit, offset=where.offset, **_bound(where)
    )
    return [_public(row) for row in kr.engine.rows(query)]


def count_cases(kr: Context, where: CaseFilter | None = None) -> int:
    """How many cases the filter lets through, whatever its limit and offset."""
    where = where or CaseFilter()
    where.check()
    if not _ready(kr):
        return 0
    value = kr.engine.scalar(Query(_COUNT, **_bound(where)))
    return int(value or 0)


def counts(kr: Context) -> dict[str, int]:
    """Cases per status (for the inbox's header)."""
    if not _ready(kr):
        return {}
    rows = kr.engine.rows("SELECT status, count(*) AS n FROM cases GROUP BY status")
    return {str(r["status"]): int(r["n"]) for r in rows}


def owners(kr: Context) -> list[str]:
    if not _ready(kr):
        return []
    rows = kr.engine.rows("SELECT DISTINCT owner FROM cases WHERE owner IS NOT NULL ORDER BY 1")
    return [str(r["owner"]) for r in rows]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row.pop("priority_rank", None)
    row["notes"] = json.loads(row.get("notes") or "[]")
    return row


def get_case(kr: Context, case_id: str) -> dict[str, Any]:
    """One case, with its notes; `CaseError` when there is none with that id."""
    if not _ready(kr):
        raise CaseError(f"no case {case_id!r}", field="case_id")
    rows = kr.engine.rows(Query("SELECT * FROM cases WHERE case_id = :id", id=case_id))
    if not rows:
        raise CaseError(f"no case {case_id!r}", field="case_id")
    return _public(rows[0])


def _note(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise CaseError(f"at most {MAX_NOTE} characters, not {len(text)}", field="note")
    return text or None


def _change(
    kr: Context,
    case_ids: list[str],
    *,
    by: str,
    log: str,
    note: str | None,
    update: dict[str, Any],
    allow: Callable[[dict[str, Any]], str | None],
) -> list[dict[str, Any]]:
    """Apply `update` to every case (all or none: each is checked first); returns them."""
    if not case_ids:
        raise CaseError("name at least one case", field="case_id")
    cases = [get_case(kr, case_id) for case_id in dict.fromkeys(case_ids)]
    for case in cases:
        problem = allow(case)
        if problem:
            raise CaseError(f"{case['case_id']}: {problem}", field="case_id")
    now = utcnow()
    store = kr.store
    with store.write_lock, store.transaction():
        for case in cases:
            entry = {"at": now.isoformat(timespec="seconds"), "by": by, "text": log}
            notes = [*case["notes"], entry] + ([{**entry, "text": note}] if note else [])
            values = {**update, "notes": json.dumps(notes, ensure_ascii=False), "updated_at": now}
            if case["status"] == "open" and "status" not in values and "owner" in values:
                values["status"] = "in_progress"
            if values.get("status") in CLOSED:
                values["closed_at"] = now
            assignments = ", ".join(f"{column} = ?" for column in values)
            store.connection.execute(
                f"UPDATE cases SET {assignments} WHERE case_id = ?",  # noqa: S608 - our columns
                [*values.values(), case["case_id"]],
            ).fetchall()
    return [get_case(kr, case["case_id"]) for case in cases]


def assign(
    kr: Context, case_ids: list[str], owner: str, *, by: str, note: str | None = None
) -> list[dict[str, Any]]:
    """Give cases to `owner` (an open case becomes in progress)."""
    owner = owner.strip()
    if not owner or len(owner) > MAX_OWNER:
        raise CaseError(f"a name of 1 to {MAX_OWNER} characters", field="owner")
    return _change(
        kr,
        case_ids,
        by=by,
        log=f"assigned to {owner}",
        note=_note(note),
        update={"owner": owner},
        allow=lambda c: "is closed" if c["status"] in CLOSED else None,
    )


def resolve(
    kr: Context,
    case_ids: list[str],
    *,
    by: str,
    note: str | None = None,
    outcome: str = "resolved",
) -> list[dict[str, Any]]:
    """Close cases as `resolved` (the customer was helped) or `no_action` (nothing to do)."""
    if outcome not in CLOSED:
        raise CaseError(f"{outcome!r} is not one of {', '.join(CLOSED)}", field="outcome")
    return _change(
        kr,
        case_ids,
        by=by,
        log=outcome.replace("_", " "),
        note=_note(note),
        update={"status": outcome},
        allow=lambda c: f"is already {c['status']}" if c["status"] in CLOSED else None,
    )


def add_note(kr: Context, case_id: str, note: str, *, by: str) -> dict[str, Any]:
    """Add a note to a case without changing its status."""
    text = _note(note)
    if not text:
        raise CaseError("the note is empty", field="note")
    return _change(kr, [case_id], by=by, log=text, note=None, update={}, allow=lambda c: None)[0]


CaseRows = list[dict[str, Any]]
CaseIds = list[str]
"""Cases as the inbox returns them (one dict per case, notes as a list)."""


class Inbox:
    """`kr.cases`: the inbox from Python, the same operations as the CLI and the REST API.

    kr.cases.open()                               # open cases from new signals
    kr.cases.list(status="open", kind="breach")   # soonest due first
    kr.cases.assign(["delivery_breach:..."], "anna")
    kr.cases.send("delivery_breach:...", via="email")
    kr.cases.resolve(["delivery_breach:..."], note="refunded the shipping")
    """

    def __init__(self, kr: Context, by: str = "python") -> None:
        self.kr = kr
        self.by = by

    def open(self) -> Any:
        from klantreis.act.cases.opening import open_cases

        return open_cases(self.kr)

    def list(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        owner: str | None = None,
        priority: str | None = None,
        person: str | None = None,
        limit: int = 200,
        sort: str = "due",
    ) -> CaseRows:
        where = CaseFilter(kind, status, owner, priority, person, limit, sort)
        return list_cases(self.kr, where)

    def show(self, case_id: str) -> dict[str, Any]:
        return get_case(self.kr, case_id)

    def assign(self, case_ids: CaseIds, owner: str, *, note: str | None = None) -> CaseRows:
        return assign(self.kr, case_ids, owner, by=self.by, note=note)

    def resolve(
        self, case_ids: CaseIds, *, note: str | None = None, outcome: str = "resolved"
    ) -> CaseRows:
        return resolve(self.kr, case_ids, by=self.by, note=note, outcome=outcome)

    def note(self, case_id: str, note: str) -> dict[str, Any]:
        return add_note(self.kr, case_id, note, by=self.by)

    def send(
        self, case_id: str, *, via: str = "email", template: str | None = None
    ) -> dict[str, Any]:
        from klantreis.act.cases.messages import send_case_message

        if via not in ("email", "webhook"):
            raise CaseError(f"{via!r} is not one of email, webhook", field="via")
        return send_case_message(
            self.kr,
            case_id,
            via="email" if via == "email" else "webhook",
            by=self.by,
            template=template,
        )
