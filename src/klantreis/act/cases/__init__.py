"""Cases: customer situations that need action, opened from signals by rules, worked in the
inbox, acted on with messages (e-mail, webhook). See docs/cases.md.

Not the expectation engine's `expectation_cases` (one row per judged order or ticket): a case
here is an action item with an owner, a status and a due time, in the table `cases`.
"""

from klantreis.act.cases.inbox import (
    CaseError,
    CaseFilter,
    add_note,
    assign,
    get_case,
    list_cases,
    resolve,
)
from klantreis.act.cases.messages import send_case_message
from klantreis.act.cases.opening import OpeningRun, open_cases
from klantreis.act.cases.rules import CaseRule, CaseSettings, active_case_rules

__all__ = [
    "CaseError",
    "CaseFilter",
    "CaseRule",
    "CaseSettings",
    "OpeningRun",
    "active_case_rules",
    "add_note",
    "assign",
    "get_case",
    "list_cases",
    "open_cases",
    "resolve",
    "send_case_message",
]
