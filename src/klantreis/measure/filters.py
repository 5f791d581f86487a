"""Cuts every analysis shares: a period and a persona.

Filters are query trees with bound values; a persona cut reads `person_personas
(person_id, persona)`, the table the personas module maintains (rule and discovered personas).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp

from klantreis.errors import KlantreisError, UnknownName
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, node


class FilterError(KlantreisError):
    """A cut that cannot be applied (unknown persona table, bad dates)."""


@dataclass(frozen=True)
class Cut:
    start: datetime | None = None
    end: datetime | None = None
    persona: str | None = None

    @classmethod
    def parse(
        cls, start: str | None = None, end: str | None = None, persona: str | None = None
    ) -> Cut:
        def when(value: str | None, name: str, option: str) -> datetime | None:
            if not value:
                return None
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError as exc:
                raise FilterError(
                    f"not an ISO date: {value!r} (CLI --{option}, HTTP ?{option}=)", field=name
                ) from exc
            return parsed.replace(tzinfo=None)

        return cls(when(start, "start", "from"), when(end, "end", "to"), persona or None)

    def condition(
        self, engine: Engine, timestamp: str = "timestamp", person: str = "person_id"
    ) -> exp.Expression:
        """A boolean tree for a WHERE clause over a table with these columns."""
        parts: list[exp.Expression] = [exp.true()]
        column = exp.column(timestamp)
        if self.start is not None:
            parts.append(exp.GTE(this=column.copy(), expression=_ts(self.start)))
        if self.end is not None:
            parts.append(exp.LT(this=column.copy(), expression=_ts(self.end)))
        if self.persona is not None:
            if not engine.has_table("person_personas"):
                raise FilterError(
                    "no personas yet: run `klantreis personas discover` first", field="persona"
                )
            known = [
                r["persona"]
                for r in engine.rows("SELECT DISTINCT persona FROM person_personas ORDER BY 1")
            ]
            if self.persona not in known:
                raise UnknownName("persona", "persona", self.persona, known)
            members = Query(
                "SELECT person_id FROM person_personas WHERE persona = :persona",
                persona=self.persona,
            ).tree
            parts.append(exp.In(this=exp.column(person), query=exp.Subquery(this=members)))
        return node(exp.and_(*parts))


def _ts(value: datetime | date) -> exp.Expression:
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return exp.cast(exp.convert(text), "TIMESTAMP")
