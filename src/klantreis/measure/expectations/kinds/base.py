"""What every rule kind is: one self-describing unit the rest of the expectations ask.

A kind brings its pydantic spec (the YAML fields of its rules), the query that lists its cases,
how the scorecard and the settings page describe a rule of it, and its own words in every
language. Compile, cases, scorecard and settings page ask the kind (`kind_of(rule)`) and never
branch on it, so a new kind is one module that registers itself (`register_kind`).

Every case query returns the columns of `expectation_cases` (`_PROJECTION`): one row per case
with its status `met`, `breached`, `open` (the deadline has not passed yet), `unresolved` (no end
event and the rule does not count that as a breach) or `unknown` (no deadline to judge by).
`delighted` is TRUE for a met case within the rule's delight margin, FALSE for every other met
or breached case, NULL when the rule has no margin (or the case is not decided).

Case queries read `expectation_events`, not `journey_events`: the events every judged rule
names, narrowed once per judging (see `cases.py`), so the rules share one pass over the model.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import sqlglot
from sqlglot import exp

from klantreis.measure.expectations.rules import RuleSpec, Selector
from klantreis.store.query import Query, node

if TYPE_CHECKING:
    from klantreis.store.engines.base import Engine

EVENTS_TABLE = "expectation_events"
"""The events the judged rules name, with the columns case queries read (see `cases.py`)."""

Terms = Mapping[str, Mapping[str, Mapping[str, str]]]
"""term kind (`rule_kind`, `rule_phrase`) → key → language → text."""

_PROJECTION = """
SELECT
    CAST(:rule_id AS VARCHAR) AS expectation_id,
    CAST(:category AS VARCHAR) AS category,
    CAST(coalesce(:phase, event_phase) AS VARCHAR) AS phase,
    CAST(case_id AS VARCHAR) AS case_id,
    person_id, journey_id, channel, order_id,
    CAST(case_key AS VARCHAR) AS case_key,
    CAST(started_at AS TIMESTAMP) AS started_at,
    CAST(due_at AS TIMESTAMP) AS due_at,
    CAST(ended_at AS TIMESTAMP) AS ended_at,
    CAST(status AS VARCHAR) AS status,
    CAST(detail AS VARCHAR) AS detail,
    CAST(value AS DOUBLE) AS value,
    CAST(delighted AS BOOLEAN) AS delighted
FROM shaped
"""
CASE_COLUMNS: tuple[str, ...] = tuple(
    e.alias_or_name for e in sqlglot.parse_one(_PROJECTION, read="duckdb").expressions
)
"""The columns of `expectation_cases`, in order: for a query that replaces some of them and
must name the rest (Spark has no `* REPLACE`)."""


@dataclass(frozen=True)
class Context:
    """What every rule query needs besides the rule: when is now, how to compare dates."""

    as_of: datetime | None
    """The moment judged at; None leaves the placeholder `:as_of` (`MOMENT`) in the query, so
    one compiled query serves every moment (bound when it runs, `at_moment`)."""
    compare: str = "timestamp"
    phases: tuple[str, ...] = ()
    """Phase ids of the active journey definition; a rule phase outside it falls back to the
    phase of the event where the case happened."""


@dataclass(frozen=True)
class Quantity:
    """A number with its unit (`2500 ms`), written in the reader's number format."""

    value: float
    unit: str = ""


@dataclass(frozen=True)
class Phrase:
    """Part of a rule's threshold in words: an English template (the key of its translations
    in the kind's `terms`, term kind `rule_phrase`) and its values. A timedelta is written as a
    duration, a `Quantity` or number in the reader's format, text as it is."""

    text: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Overall:
    """A kind's own verdict on the expectation as a whole (a percentile rule: the p75 of all
    cases under the limit), which replaces the breach rate against the target."""

    name: str
    """What the figure is (`percentile`)."""
    values: dict[str, Any]
    kept: bool
    text: str
    """The figure in a few English words (`p75 = 1800.0 ms`), for the CLI."""


@functools.cache
def template(sql: str) -> exp.Expression:
    """A case query whose final `SELECT * FROM shaped` gets the common case columns."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    projection = sqlglot.parse_one(_PROJECTION, read="duckdb")
    tree.set("expressions", [e.copy() for e in projection.expressions])
    return node(tree)


def interval(delta: timedelta) -> exp.Expression:
    seconds = round(delta.total_seconds())
    return exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND"))


MOMENT = "as_of"
"""The name of the moment judged at, as a placeholder in a query compiled without one."""


def moment(as_of: datetime) -> exp.Expression:
    """The moment judged at as a literal timestamp."""
    return node(exp.cast(exp.convert(as_of.isoformat(sep=" ")), "TIMESTAMP"))


def common(rule: RuleSpec, ctx: Context) -> dict[str, object]:
    """The parameters every case template binds."""
    return {
        "rule_id": rule.id,
        "category": rule.category,
        "phase": rule.phase if rule.phase in ctx.phases else exp.null(),
        "as_of": exp.Placeholder(this=MOMENT) if ctx.as_of is None else moment(ctx.as_of),
        "events": exp.to_table(EVENTS_TABLE),
    }


def describe(selector: Selector) -> str:
    """A selector in words for a breach's `detail`: `Products Searched: results eq 0`."""
    events = " or ".join(selector.event)
    conditions = ", ".join(
        f"{c.property} {c.op}" + ("" if c.op in ("exists", "missing") else f" {c.value}")
        for c in selector.where
    )
    return f"{events}: {conditions}" if conditions else events


class RuleKind(ABC):
    """One kind of expectation rule. Subclasses set `name`, `spec` and `terms` (with at least
    the kind's own label under `rule_kind` in every language) and build the case query."""

    name: ClassVar[str]
    spec: ClassVar[type[RuleSpec]]
    terms: ClassVar[Terms] = {}
    has_delight: ClassVar[bool] = False
    """Whether rules of this kind may say when a met case clearly exceeded the promise."""

    @abstractmethod
    def cases(self, rule: Any, ctx: Context) -> Query:
        """The query listing the cases of `rule`, in the columns of `expectation_cases`,
        reading the events from `expectation_events`."""

    @abstractmethod
    def threshold(self, rule: Any) -> list[Phrase]:
        """The rule's measurable limit, for the settings page (`within 1 day`)."""

    def no_data(self, rule: Any, engine: Engine) -> str | None:
        """Why the rule cannot be judged beyond absent events (None: it can)."""
        return None

    def delight_margin(self, rule: Any) -> str | None:
        """The rule's delight margin in English words (`early by 1d`), or None."""
        delight = getattr(rule, "delight", None)
        return None if delight is None else str(delight.describe())

    def overall(self, engine: Engine, rule: Any, cut: exp.Expression) -> Overall | None:
        """A verdict on the whole expectation that replaces breach rate against target."""
        return None

    def label(self, language: str) -> str:
        texts = self.terms.get("rule_kind", {}).get(self.name, {})
        return texts.get(language) or texts.get("en") or self.name
