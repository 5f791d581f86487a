"""Rule personas: segments the shop defines in YAML, as structured conditions (never SQL).

Each condition becomes a SQLGlot node over the `persons` table: field names come from a fixed
list, trait names must be plain words, and every value is bound as a literal. A mistake in the
file is reported with its file, line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import yaml
from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.measure.personas import tables
from klantreis.measure.personas.settings import PersonasSettings
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

FIELDS = ("orders", "events", "first_seen", "last_seen", "consent_marketing", "user_id")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "present", "absent")
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class RuleError(KlantreisError):
    """A rule file that cannot be used; the message names file, line and column."""


class _Located(dict):  # type: ignore[type-arg]
    line = 0
    column = 0


class _Loader(yaml.SafeLoader):
    """Keeps where each mapping starts, for error messages."""


def _construct(loader: _Loader, node: yaml.MappingNode) -> _Located:
    mapping = _Located(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.column = node.start_mark.column + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct)


@dataclass(frozen=True)
class RulePersona:
    persona: str
    name: str
    description: str
    condition: exp.Expression


def builtin_rules() -> str:
    return resources.files("klantreis.measure.personas").joinpath("rules.yaml").read_text()


def rules_path(kr: Context, given: Path | None = None) -> Path | None:
    """--rules, else [personas] rules in klantreis.toml, else ./personas.yaml, else built-in."""
    if given is not None:
        return given
    configured = kr.settings.section(PersonasSettings).rules
    if configured:
        return Path(configured)
    local = Path("personas.yaml")
    return local if local.exists() else None


def load_rules(path: Path | None = None, text: str | None = None) -> list[RulePersona]:
    where = str(path) if path is not None else "built-in rules.yaml"
    if text is None:
        if path is None:
            text = builtin_rules()
        else:
            if not path.exists():
                raise RuleError(f"{path}: rule file not found")
            text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise RuleError(f"{where}{at}: not valid YAML: {exc.problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("personas"), list):
        raise RuleError(f"{where}:1:1: expected a top-level `personas:` list")
    seen: set[str] = set()
    rules = []
    for item in data["personas"]:
        rule = _rule(item, where)
        if rule.persona in seen:
            raise RuleError(f"{_at(where, item)}: id {rule.persona!r} is used twice")
        seen.add(rule.persona)
        rules.append(rule)
    return rules


def _at(where: str, node: Any) -> str:
    return f"{where}:{getattr(node, 'line', 1)}:{getattr(node, 'column', 1)}"


def _rule(item: Any, where: str) -> RulePersona:
    if not isinstance(item, dict):
        raise RuleError(f"{_at(where, item)}: each persona must be a mapping with id and all/any")
    persona = item.get("id")
    if not isinstance(persona, str) or not _ID.match(persona):
        raise RuleError(
            f"{_at(where, item)}: id: lower-case letters, digits and dashes, got {persona!r}"
        )
    unknown = set(item) - {"id", "name", "description", "all", "any"}
    if unknown:
        raise RuleError(f"{_at(where, item)}: unknown key {sorted(unknown)[0]!r} in {persona}")
    joins = [key for key in ("all", "any") if key in item]
    if len(joins) != 1 or not isinstance(item[joins[0]], list) or not item[joins[0]]:
        raise RuleError(f"{_at(where, item)}: {persona} needs one non-empty `all:` or `any:` list")
    parts = [_condition(c, where) for c in item[joins[0]]]
    condition = exp.and_(*parts) if joins[0] == "all" else exp.or_(*parts)
    return RulePersona(
        persona, str(item.get("name") or persona), str(item.get("description") or ""), condition
    )


def _subject(cond: dict[str, Any], where: str) -> exp.Expression:
    kinds = [key for key in ("field", "trait", "event") if key in cond]
    if len(kinds) != 1:
        raise RuleError(f"{_at(where, cond)}: a condition names one of field, trait or event")
    kind, name = kinds[0], cond[kinds[0]]
    if kind == "field":
        if name not in FIELDS:
            raise RuleError(
                f"{_at(where, cond)}: field: unknown field {name!r} (use {', '.join(FIELDS)})"
            )
        return exp.column(name, table="p")
    if kind == "trait":
        if not isinstance(name, str) or not _WORD.match(name):
            raise RuleError(f"{_at(where, cond)}: trait: a plain name (letters, digits, _)")
        return _select_expr("json_extract(p.traits, :path)", path=f"$.{name}")
    if not isinstance(name, str) or not name:
        raise RuleError(f"{_at(where, cond)}: event: an event name")
    return _select_expr(
        "(SELECT count(*) FROM journey_events AS e "
        "WHERE e.person_id = p.person_id AND e.event = :name)",
        name=name,
    )


def _select_expr(sql: str, **params: Any) -> exp.Expression:
    return Query("SELECT " + sql, **params).tree.expressions[0]


def _condition(cond: Any, where: str) -> exp.Expression:
    if not isinstance(cond, dict):
        raise RuleError(f"{_at(where, cond)}: a condition must be a mapping")
    unknown = set(cond) - {"field", "trait", "event", "op", "value"}
    if unknown:
        raise RuleError(f"{_at(where, cond)}: unknown key {sorted(unknown)[0]!r}")
    subject = _subject(cond, where)
    is_event = "event" in cond
    op = cond.get("op", "gte" if is_event else "present")
    if op not in OPS:
        raise RuleError(f"{_at(where, cond)}: op: unknown operator {op!r} (use {', '.join(OPS)})")
    if op in ("present", "absent"):
        return (
            exp.Not(this=exp.Is(this=subject, expression=exp.null()))
            if op == "present"
            else exp.Is(this=subject, expression=exp.null())
        )
    if "value" not in cond and not is_event:
        raise RuleError(f"{_at(where, cond)}: value: {op} needs a value")
    value = cond.get("value", 1)
    if "trait" in cond:
        text = _select_expr("json_extract_string(p.traits, :path)", path=f"$.{cond['trait']}")
        subject = text
        value = [str(v) for v in value] if isinstance(value, list) else str(value)
    if op == "in":
        if not isinstance(value, list) or not value:
            raise RuleError(f"{_at(where, cond)}: value: `in` needs a non-empty list")
        return exp.In(this=subject, expressions=[exp.convert(v) for v in value])
    if isinstance(value, (list, dict)):
        raise RuleError(f"{_at(where, cond)}: value: {op} needs a single value")
    return _COMPARE[op](this=subject, expression=exp.convert(value))


def members_query(rule: RulePersona) -> Query:
    select = exp.select(exp.column("person_id", table="p")).from_("persons AS p")
    return Query(select.where(rule.condition.copy()))


def apply_rules(kr: Context, path: Path | None = None) -> dict[str, int]:
    """Evaluate every rule persona and store its members; returns persona -> persons."""
    rules = load_rules(rules_path(kr, path))
    ensure_built(kr)
    tables.ensure_tables(kr.store)
    members: dict[str, list[str]] = {}
    for rule in rules:
        members[rule.persona] = kr.engine.fetch(members_query(rule)).column("person_id").to_pylist()
    total = max(int(kr.engine.scalar("SELECT count(*) FROM persons") or 0), 1)
    rows = pa.table(
        {
            "person_id": pa.array([p for r in rules for p in members[r.persona]], pa.string()),
            "persona": pa.array(
                [r.persona for r in rules for _ in members[r.persona]], pa.string()
            ),
            "source": pa.array(["rule"] * sum(len(v) for v in members.values()), pa.string()),
        }
    )
    tables.replace_rows(kr.store, "person_personas", rows, "rule")
    from klantreis.store.store import utcnow

    now = utcnow()
    described = pa.Table.from_pylist(
        [
            {
                "persona": r.persona,
                "source": "rule",
                "name": r.name,
                "description": r.description,
                "size": len(members[r.persona]),
                "share": round(len(members[r.persona]) / total, 4),
                "profile": members_query(r).sql(),
                "examples": "[]",
                "model_id": None,
                "created_at": now,
            }
            for r in rules
        ],
        schema=pa.schema(
            [
                ("persona", pa.string()),
                ("source", pa.string()),
                ("name", pa.string()),
                ("description", pa.string()),
                ("size", pa.int64()),
                ("share", pa.float64()),
                ("profile", pa.string()),
                ("examples", pa.string()),
                ("model_id", pa.string()),
                ("created_at", pa.timestamp("us")),
            ]
        ),
    )
    tables.replace_rows(kr.store, "personas", described, "rule")
    return {r.persona: len(members[r.persona]) for r in rules}
