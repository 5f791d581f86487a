"""Build `expectation_cases`, `breaches` and `delights` from the model, rebuilt when anything
they rest on changes (events, journey definition, rules, the comparison mode, the moment judged
at); after an incremental model refresh only for the persons it rebuilt (`rejudge.py`).

`breaches` and `delights` (`derived.py`) are what the journey map (pain points) and the
customer timeline read.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from klantreis.measure.expectations import compile as compile_module
from klantreis.measure.expectations import conditions as conditions_module
from klantreis.measure.expectations import derived as derived_module
from klantreis.measure.expectations.compile import Context as RuleContext
from klantreis.measure.expectations.compile import (
    at_moment,
    cases_query,
    events_apart,
    persons_queries,
)
from klantreis.measure.expectations.derived import DERIVED, derived
from klantreis.measure.expectations.kinds import base as base_module
from klantreis.measure.expectations.kinds import kind_of, kinds
from klantreis.measure.expectations.kinds.base import CASE_COLUMNS, EVENTS_TABLE
from klantreis.measure.expectations.rejudge import (
    REJUDGED,
    REJUDGED_EVENTS,
    can_rejudge,
    rejudge,
)
from klantreis.measure.expectations.rules import Rule
from klantreis.measure.expectations.ruleset import ExpectationSettings, active_rules
from klantreis.measure.names import stored_events
from klantreis.model import ensure_built, load_definition
from klantreis.model.as_built import reading_as_built
from klantreis.model.build import model_definition
from klantreis.model.translate import Translation, phase_in
from klantreis.store.query import Query, read_as
from klantreis.store.schema import TableSpec, register_table

if TYPE_CHECKING:
    from klantreis.model.context import Context

BUILD_VERSION = "3"
JUDGED_META = "expectations_judged"
"""`meta` key of what the stored cases were judged on (`Judged`)."""

_judging = threading.Lock()
register_table(TableSpec("expectation_cases", "", person_id_columns=("person_id",), derived=True))
register_table(TableSpec("breaches", "", person_id_columns=("person_id",), derived=True))
register_table(TableSpec("delights", "", person_id_columns=("person_id",), derived=True))

_CASES_IN = """
SELECT coalesce(r.phase, j.phase, t.phase) AS phase,
       coalesce(j.journey_id, c.journey_id) AS journey_id
FROM expectation_cases AS c
LEFT JOIN (SELECT * FROM :rule_phases) AS r ON r.expectation_id = c.expectation_id
LEFT JOIN (SELECT * FROM :phases) AS t ON t.built = c.phase
LEFT JOIN journey_events AS j ON j.message_id = c.case_id
"""
"""The cases judged in the model's definition, read in another (`model/translate.py`): a rule's
phase if the other definition has it, else the phase of the event the case is about there
(most case ids are that event's message id), else (cases keyed by an order) where the
judged phase's events fall. Its projection is completed to every case column, in order, by
`_every_case_column` (Spark reads no `c.* REPLACE (...)`)."""


def _every_case_column(query: Query) -> Query:
    """`query`'s projection (some case columns, computed) as every column of
    `expectation_cases` in order: the others read as they are from `c`."""
    from sqlglot import exp

    computed = {e.alias_or_name: e for e in query.tree.expressions}
    tree = query.tree.copy()
    tree.set(
        "expressions",
        [computed[n].copy() if n in computed else exp.column(n, table="c") for n in CASE_COLUMNS],
    )
    return Query(tree)


def cases_read_in(kr: Context, translation: Translation) -> dict[str, Query]:
    """The queries that read `expectation_cases`, `breaches` and `delights` in the
    translation's definition; `journey_events` must be read in it too (`read_in`)."""
    from sqlglot import exp

    wanted, built = translation.wanted, translation.built

    def values(rows: Sequence[tuple[str, str | None]], names: tuple[str, str]) -> exp.Expression:
        return exp.Values(
            expressions=[exp.Tuple(expressions=[exp.convert(v) for v in row]) for row in rows],
            alias=exp.TableAlias(
                this=exp.to_identifier("v"), columns=[exp.to_identifier(n) for n in names]
            ),
        )

    rules = active_rules(ExpectationSettings.from_settings(kr.settings))
    by_rule: list[tuple[str, str | None]] = [
        (r.id, r.phase) for r in rules if r.phase in wanted.phase_ids
    ] or [("", None)]
    phases = [(p, phase_in(built, wanted, p)) for p in built.phase_ids]
    cases = _every_case_column(
        Query(
            _CASES_IN,
            rule_phases=values(by_rule, ("expectation_id", "phase")),
            phases=values(phases, ("built", "phase")),
        )
    )
    events = {"journey_events": translation.tables["journey_events"]}
    cases = Query(read_as(cases.tree, events))
    derived_tables = {
        name: Query(read_as(derived(query).tree, {"expectation_cases": cases}))
        for name, query in DERIVED.items()
    }
    return {"expectation_cases": cases, **derived_tables}


@dataclass
class CaseSet:
    """The rules judged, the ones that could not be (and why), and when they were judged."""

    rules: list[Rule]
    no_data: dict[str, str] = field(default_factory=dict)
    as_of: datetime | None = None
    compare: str = "timestamp"
    rebuilt: bool = False

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _as_of(kr: Context, now: datetime | None) -> datetime:
    if now is not None:
        return now.replace(tzinfo=None)
    latest = kr.engine.scalar("SELECT max(timestamp) FROM events")
    return latest or datetime(1970, 1, 1)


def _no_data(kr: Context, rules: list[Rule]) -> dict[str, str]:
    """Rules that cannot be judged, with the reason: events they need that the store has
    never seen (from the model's one-row-per-name `phase_map`), or the kind's own reason."""
    present = stored_events(kr.engine)
    reasons: dict[str, str] = {}
    for rule in rules:
        missing = [e for e in dict.fromkeys(rule.required_events()) if e not in present]
        if missing:
            reasons[rule.id] = "no " + ", ".join(f"'{e}'" for e in missing) + " events"
        elif (reason := kind_of(rule).no_data(rule, kr.engine)) is not None:
            reasons[rule.id] = reason
    return reasons


_NO_DATA: dict[tuple[str, str, tuple[str, ...]], dict[str, str]] = {}
"""Reasons per (store, model fingerprint, rules): they change only with the events."""


def _no_data_of(kr: Context, rules: list[Rule], model: str) -> dict[str, str]:
    key = (str(kr.settings.store), model, tuple(_key(r) for r in rules))
    if not model or key not in _NO_DATA:
        if len(_NO_DATA) > 64:
            _NO_DATA.clear()
        _NO_DATA[key] = _no_data(kr, rules)
    return dict(_NO_DATA[key])


_NO_CASES = """
SELECT CAST(NULL AS VARCHAR) AS expectation_id, CAST(NULL AS VARCHAR) AS category,
       CAST(NULL AS VARCHAR) AS phase, CAST(NULL AS VARCHAR) AS case_id,
       CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS journey_id,
       CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS order_id,
       CAST(NULL AS VARCHAR) AS case_key, CAST(NULL AS TIMESTAMP) AS started_at,
       CAST(NULL AS TIMESTAMP) AS due_at, CAST(NULL AS TIMESTAMP) AS ended_at,
       CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS detail,
       CAST(NULL AS DOUBLE) AS value, CAST(NULL AS BOOLEAN) AS delighted
WHERE 1 = 0
"""
"""`expectation_cases` without rows (no rule can be judged yet), in its columns and types."""


@functools.lru_cache(maxsize=16)
def _compiled(rules: tuple[str, ...], kind_ids: tuple[int, ...], ctx: RuleContext) -> Query:
    """The shared case query per ruleset, without the moment judged at (`ctx.as_of` None, bound
    by `at_moment` each time): building the tree of every rule takes a second or more, and the
    moment moves with every new event."""
    del kind_ids  # part of the key only: a kind registered anew compiles anew
    judged = [_RULES[key] for key in rules]
    return cases_query(judged, ctx) if judged else Query(_NO_CASES)


@functools.lru_cache(maxsize=16)
def _compiled_for_persons(
    rules: tuple[str, ...], kind_ids: tuple[int, ...], ctx: RuleContext
) -> tuple[Query, Query]:
    """The two statements that judge the persons in `REJUDGED` again, per ruleset."""
    del kind_ids
    judged = [_RULES[key] for key in rules]
    return persons_queries(judged, ctx, REJUDGED, REJUDGED_EVENTS)


_RULES: dict[str, Rule] = {}
"""Rules by their JSON, so the compile cache can be keyed by text."""


def _key(rule: Rule) -> str:
    text = f"{rule.kind}:{rule.model_dump_json()}"
    _RULES.setdefault(text, rule)
    return text


def _code(kind_ids: tuple[int, ...]) -> str:
    """A hash of the code that writes case queries: the shared pass, the kinds' base and each
    registered kind's module. Judged cases of other code are judged again, as when the
    compiled SQL was compared, but without compiling it (seconds at every page)."""
    del kind_ids  # part of the key only: a kind registered anew is hashed anew
    digest = hashlib.sha256()
    files = {
        __file__,
        compile_module.__file__,
        base_module.__file__,
        conditions_module.__file__,
        derived_module.__file__,
    }
    names = []
    for kind in kinds().values():
        try:
            files.add(inspect.getfile(type(kind)))
        except (TypeError, OSError):  # defined where no file holds it: its name stands in
            names.append(f"{type(kind).__module__}.{type(kind).__qualname__}")
    for path in sorted(str(f) for f in files if f):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(path.encode())
    digest.update("|".join(sorted(names)).encode())
    return digest.hexdigest()


_code_of = functools.lru_cache(maxsize=8)(_code)


@dataclass(frozen=True)
class Judged:
    """What the stored cases were judged on (`fingerprint`: the model and `basis`, all else
    they rest on), as of when, and which rules could not be judged: kept next to the cases,
    so telling that they are current is one read of `meta`, not a compilation of every rule."""

    fingerprint: str
    as_of: datetime
    no_data: dict[str, str]
    model: str = ""
    basis: str = ""
    rules: str = ""
    """A hash of what `basis` holds but the moment: the rules, definition, comparison, code."""
    newest: bool = False
    """Judged at or after the newest event of `model`: every event is in them."""

    def dump(self) -> str:
        data = {**asdict(self), "as_of": self.as_of.isoformat()}
        return json.dumps(data)

    @classmethod
    def load(cls, text: str | None) -> Judged | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                str(data["fingerprint"]),
                datetime.fromisoformat(data["as_of"]),
                {str(k): str(v) for k, v in data["no_data"].items()},
                str(data.get("model", "")),
                str(data.get("basis", "")),
                str(data.get("rules", "")),
                bool(data.get("newest", False)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _read_judged(kr: Context) -> Judged | None:
    if kr.engine.capabilities.writable:
        return Judged.load(kr.store.get_meta(JUDGED_META))
    return Judged.load(kr.engine.get_state(JUDGED_META))


def _write_judged(kr: Context, judged: Judged) -> None:
    """Beside the cases: the store's `meta`, or an engine's state, which Spark keeps with
    the derived tables in the lake (`tables_path`), so the next process reads the cases it
    judged instead of judging them again (minutes at shop scale)."""
    if kr.engine.capabilities.writable:
        kr.store.set_meta("expectations_fingerprint", judged.fingerprint)
        kr.store.set_meta(JUDGED_META, judged.dump())
    else:
        kr.engine.set_state("expectations_fingerprint", judged.fingerprint)
        kr.engine.set_state(JUDGED_META, judged.dump())


def judged_fingerprint(kr: Context, rules: list[Rule], compare: str, now: datetime | None) -> str:
    """What the cases rest on, without compiling or querying: the model (whose fingerprint
    holds the events' count and newest time, so the moment judged at follows it), the journey
    definition, the comparison mode, the moment when one is given, the rules and the code of
    the rule kinds."""
    basis, model, _ = _rests_on(kr, rules, compare, now)
    return _fingerprint(basis, model)


def _fingerprint(basis: str, model: str) -> str:
    return hashlib.sha256(f"{basis}\x1f{model}".encode()).hexdigest()


def _rests_on(
    kr: Context, rules: list[Rule], compare: str, now: datetime | None
) -> tuple[str, str, str]:
    """(basis, model, rules): a hash of everything the cases rest on but the model, the
    model's fingerprint, and a hash of the basis without the moment judged at."""
    engine = kr.engine
    model = str(
        kr.store.get_meta("model_fingerprint")
        if engine.capabilities.writable
        else engine.get_state("model_fingerprint") or ""
    )
    moment = now.replace(tzinfo=None).isoformat() if now is not None else "latest"
    if not model:  # no model fingerprint to follow the events: the moment itself
        moment = _as_of(kr, now).isoformat()
    kind_ids = tuple(id(k) for k in kinds().values())
    parts = [
        BUILD_VERSION,
        model_definition(kr),
        compare,
        _code_of(kind_ids),
        *(_key(r) for r in rules),
    ]
    with_moment = [*parts[:3], moment, *parts[3:]]
    basis = hashlib.sha256("\x1f".join(with_moment).encode()).hexdigest()
    return basis, model, hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _judged_alike(stored: Judged, model: str, rules: str, now: datetime | None) -> bool:
    """Whether cases stored under another fingerprint are the ones asked for all the same:
    judged on this model (the same events) with the same rules, definition, comparison and
    code, at the moment asked (`now`, or, naming none, at or after the newest event, so no
    event is left out).

    The moment is part of the fingerprint as it was named ("latest", or a time), so without
    this the judge step of a job run at a fixed moment (`--now`) and the analyses after it
    that name none (opportunities, the map, the routine's jobs) judged every rule twice on
    the same events: at 10M events about 30 s of CPU. Cases judged at a moment after the
    newest event differ from the newest event's only in deadlines passed meanwhile; the
    `as_of` they report says which moment they are of."""
    if not model or stored.model != model or not stored.rules or stored.rules != rules:
        return False
    if now is None:
        return stored.newest
    return stored.as_of == now.replace(tzinfo=None)


@contextmanager
def _events_apart(kr: Context, compiled: Query | None) -> Iterator[list[Query] | None]:
    """The case queries to judge every person by (`compiled`, bound to its moment), run one
    after the other into `expectation_cases` (None: judging a few again, `rejudge.py`).

    On DuckDB the rules' shared events are stored first as a temporary table of this
    connection, dropped after, and each rule's cases read it in a statement of their own
    (`compile.events_apart` says why). Made before the transaction that replaces the cases:
    in it the table's rows were held in memory to the commit (1M events under a 200MB cap
    ran out of memory). Spark stages a common table read more than once itself
    (`engines/spark/staging.py`): the one query."""
    engine = kr.engine
    if compiled is None or engine.capabilities.name != "duckdb":
        yield None if compiled is None else [compiled]
        return
    events, cases = events_apart(compiled)
    if events is None:
        yield cases
        return
    scratch = exp.Create(
        this=exp.to_table(EVENTS_TABLE),
        kind="TABLE",
        replace=True,
        expression=events.tree,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    try:
        engine.execute(Query(scratch))
        yield cases
    finally:
        engine.execute(f"DROP TABLE IF EXISTS temp.{EVENTS_TABLE}")


def ensure_cases(
    kr: Context,
    *,
    now: datetime | None = None,
    compare: str | None = None,
    rules: list[Rule] | None = None,
) -> CaseSet:
    """The model and the case tables, (re)built when stale; returns what was judged.

    Whether the stored cases are current is told from `judged_fingerprint` against the one
    stored with them: no rule is compiled and no event read unless they must be judged.
    A page reading `as_built` takes the stored cases as they are (the routine judges)."""
    ensure_built(kr)
    settings = ExpectationSettings.from_settings(kr.settings)
    rules = active_rules(settings) if rules is None else rules
    compare = compare or settings.compare
    engine = kr.engine
    basis, model, rests = _rests_on(kr, rules, compare, now)
    fingerprint = _fingerprint(basis, model)
    stored = _read_judged(kr)
    if (
        stored is not None
        and (
            stored.fingerprint == fingerprint
            or (reading_as_built() and now is None)
            or _judged_alike(stored, model, rests, now)
        )
        and engine.has_table("breaches")
        and engine.has_table("delights")
    ):
        return CaseSet(rules=rules, no_data=stored.no_data, as_of=stored.as_of, compare=compare)
    # Its own lock, not the store's write lock: judging takes seconds on a large store and the
    # collector must keep committing meanwhile; the transaction makes the three tables change
    # together.
    with _judging:
        stored = _read_judged(kr)  # judged meanwhile by another thread
        if (
            stored is not None
            and (stored.fingerprint == fingerprint or _judged_alike(stored, model, rests, now))
            and engine.has_table("breaches")
        ):
            return CaseSet(rules=rules, no_data=stored.no_data, as_of=stored.as_of, compare=compare)
        # the no-data reasons change only with what the cases rest on
        no_data = _no_data_of(kr, rules, fingerprint)
        as_of = _as_of(kr, now)
        definition = load_definition(model_definition(kr))
        judged = [r for r in rules if r.id not in no_data]
        ctx = RuleContext(as_of=None, compare=compare, phases=tuple(definition.phase_ids))
        kind_ids = tuple(id(k) for k in kinds().values())
        keys = tuple(_key(r) for r in judged)
        again = bool(judged) and now is None and can_rejudge(kr, stored, basis, no_data)
        every = None if again else at_moment(_compiled(keys, kind_ids, ctx), as_of)
        with (
            _events_apart(kr, every) as cases,
            kr.store.transaction() if engine.capabilities.writable else nullcontext(),
        ):
            if cases is None:
                events, persons = _compiled_for_persons(keys, kind_ids, ctx)
                rejudge(kr, events, at_moment(persons, as_of))
            else:
                first, *others = cases
                engine.create_table_as("expectation_cases", first)
                for rule in others:
                    engine.insert_into("expectation_cases", rule)
                for name, query in DERIVED.items():
                    engine.create_table_as(name, derived(query))
            newest = now is None or as_of >= _as_of(kr, None)
            _write_judged(kr, Judged(fingerprint, as_of, no_data, model, basis, rests, newest))
    return CaseSet(rules=rules, no_data=no_data, as_of=as_of, compare=compare, rebuilt=True)
