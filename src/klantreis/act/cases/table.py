"""The `cases` table: one row per customer situation that needs action.

Not to be confused with `expectation_cases` (measure/expectations/cases.py), the expectation
engine's one row per judged order or ticket: a case here is an action item in the inbox, with
an owner, a status and a due time. Cases are erased with their person (`person_id`,
`user_id`), notes included.
"""

from __future__ import annotations

from klantreis.store.schema import TableSpec, columns, register_table

CASES = register_table(
    TableSpec(
        "cases",
        columns=columns(
            ("case_id", "VARCHAR"),
            ("rule_id", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("signal", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("user_id", "VARCHAR"),
            ("journey_id", "VARCHAR"),
            ("order_id", "VARCHAR"),
            ("case_key", "VARCHAR"),
            ("expectation_id", "VARCHAR"),
            ("reason", "VARCHAR"),
            ("priority", "VARCHAR"),
            ("signal_at", "TIMESTAMP"),
            ("opened_at", "TIMESTAMP"),
            ("due_at", "TIMESTAMP"),
            ("owner", "VARCHAR"),
            ("status", "VARCHAR"),
            ("notes", "VARCHAR"),
            ("message", "VARCHAR"),
            ("messages_sent", "BIGINT"),
            ("last_message_at", "TIMESTAMP"),
            ("updated_at", "TIMESTAMP"),
            ("closed_at", "TIMESTAMP"),
        ),
        key=("case_id",),
        person_columns=("user_id",),
        person_id_columns=("person_id",),
        doc="a customer situation that needs action (the inbox): kind, reason, owner, status, "
        "due time, notes (JSON); not `expectation_cases`",
    )
)
