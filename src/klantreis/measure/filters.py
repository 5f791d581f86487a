"""Cuts every analysis shares: a period and a persona (and, inside `source_in_use`, a source).

Filters are query trees with bound values; a persona cut reads `person_personas
(person_id, persona)`, the table the personas module maintains (rule and discovered personas).
A source cut keeps the persons whose first visit came from that acquisition touchpoint or
source (the model's `session_sources`); the journey map sets it around everything it asks, so
its lanes, pain points and emotion are all of the same persons.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp

from klantreis.errors import KlantreisError, UnknownName
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, node


class FilterError(KlantreisError):
    """A cut that cannot be applied (unknown persona table, bad dates)."""


_SOURCE: ContextVar[str | None] = ContextVar("source_in_use", default=None)

_FIRST_TOUCH = """
SELECT person_id FROM session_sources WHERE person_id IS NOT NULL
GROUP BY person_id HAVING arg_min(first_touch_column, (started_at, session_id)) = :value
"""


@contextmanager
def source_in_use(source: str | None) -> Iterator[None]:
    """Within this block every cut keeps only persons who first came from `source` (an
    acquisition touchpoint such as `organic search`, or a source such as `tiktok`)."""
    token = _SOURCE.set(source or None)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def source_cut() -> str | None:
    """The source every cut keeps now (`source_in_use`), or None."""
    return _SOURCE.get()


def _source_members(engine: Engine, source: str) -> exp.Expression:
    if not engine.has_table("session_sources"):
        raise FilterError("no sources yet: the model has no session_sources", field="source")
    known = engine.rows(
        "SELECT DISTINCT touchpoint AS value, 'touchpoint' AS kind FROM session_sources "
        "UNION SELECT DISTINCT source, 'source' FROM session_sources"
    )
    kinds = {r["value"]: r["kind"] for r in known if r["value"] is not None}
    if source not in kinds:
        raise UnknownName("source", "source", source, sorted(kinds))
    tree = Query(_FIRST_TOUCH, value=source).tree
    column = kinds[source]
    return tree.transform(
        lambda node: (
            exp.column(column)
            if isinstance(node, exp.Column) and node.name == "first_touch_column"
            else node
        )
    )


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
        source = _SOURCE.get()
        if source is not None:
            members = _source_members(engine, source)
            parts.append(exp.In(this=exp.column(person), query=exp.Subquery(this=members)))
        return node(exp.and_(*parts))


def _ts(value: datetime | date) -> exp.Expression:
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return exp.cast(exp.convert(text), "TIMESTAMP")
