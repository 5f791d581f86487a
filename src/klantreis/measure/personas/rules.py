"""Rule personas: segments the shop defines in YAML, as structured conditions (never SQL).

Each condition becomes a SQLGlot node over the `persons` table: field names come from a fixed
list, trait names must be plain words, and every value is bound as a literal. The file is read into
typed models (`PersonaSpec`, `ConditionSpec`, as the expectation rules are); a mistake is
reported with its file, line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.measure.personas import tables
from klantreis.measure.personas.settings import PersonasSettings
from klantreis.model import ensure_built
from klantreis.store.query import Query, node

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
        try:
            spec = PersonaSpec.model_validate(item)
        except ValidationError as exc:
            raise _located(exc, item, where) from None
        if spec.id in seen:
            raise RuleError(f"{_at(where, item)}: id {spec.id!r} is used twice")
        seen.add(spec.id)
        rules.append(spec.persona())
    return rules


def _at(where: str, node: Any) -> str:
    return f"{where}:{getattr(node, 'line', 1)}:{getattr(node, 'column', 1)}"


def _located(exc: ValidationError, item: Any, where: str) -> RuleError:
    """The first error, at the line and column of the innermost mapping it is in."""
    error = exc.errors()[0]
    node, at = item, item
    for part in error["loc"]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, _Located):
            at = node
    keys = [str(part) for part in error["loc"] if isinstance(part, str)]
    key = keys[-1] if keys else ""
    if error["type"] == "extra_forbidden":
        return RuleError(f"{_at(where, at)}: unknown key {key!r}")
    reason = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] != "value_error" and key:
        reason = f"{key}: {reason}"
    return RuleError(f"{_at(where, at)}: {reason}")


def _word(name: str) -> str:
    if not _WORD.match(name):
        raise ValueError("trait: a plain name (letters, digits, _)")
    return name


class ConditionSpec(BaseModel):
    """One condition: a person field, trait or event count, an operator and a value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = None
    trait: Annotated[str, AfterValidator(_word)] | None = None
    event: Annotated[str, Field(min_length=1)] | None = None
    op: str | None = None
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> ConditionSpec:
        kinds = [k for k in ("field", "trait", "event") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a condition names one of field, trait or event")
        if self.field is not None and self.field not in FIELDS:
            raise ValueError(f"field: unknown field {self.field!r} (use {', '.join(FIELDS)})")
        if self.op is not None and self.op not in OPS:
            raise ValueError(f"op: unknown operator {self.op!r} (use {', '.join(OPS)})")
        op = self.operator
        if op in ("present", "absent"):
            return self
        if "value" not in self.model_fields_set and self.event is None:
            raise ValueError(f"value: {op} needs a value")
        if op == "in" and (not isinstance(self.value, list) or not self.value):
            raise ValueError("value: `in` needs a non-empty list")
        if op != "in" and isinstance(self.value, list | dict):
            raise ValueError(f"value: {op} needs a single value")
        return self

    @property
    def operator(self) -> str:
        return self.op or ("gte" if self.event is not None else "present")

    def subject(self) -> exp.Expression:
        if self.field is not None:
            return exp.column(self.field, table="p")
        if self.trait is not None:
            return _select_expr("json_extract(p.traits, :path)", path=f"$.{self.trait}")
        return _select_expr(
            "(SELECT count(*) FROM journey_events AS e "
            "WHERE e.person_id = p.person_id AND e.event = :name)",
            name=self.event,
        )

    def tree(self) -> exp.Expression:
        """The condition as a tree over `persons AS p`, every value bound as a literal."""
        subject, op = self.subject(), self.operator
        if op in ("present", "absent"):
            null = exp.Is(this=subject, expression=exp.null())
            return exp.Not(this=null) if op == "present" else null
        value = self.value if "value" in self.model_fields_set else 1
        if self.trait is not None:
            subject = _select_expr("json_extract_string(p.traits, :path)", path=f"$.{self.trait}")
            value = [str(v) for v in value] if isinstance(value, list) else str(value)
        if op == "in":
            values = value if isinstance(value, list) else [value]
            return exp.In(this=subject, expressions=[exp.convert(v) for v in values])
        return node(_COMPARE[op](this=subject, expression=exp.convert(value)))


class PersonaSpec(BaseModel):
    """One persona of a rules file: an id, a name, and `all:` or `any:` of its conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[
        str, Field(pattern=_ID.pattern, description="lower-case letters, digits and dashes")
    ]
    name: str | None = None
    description: str | None = None
    all_of: Annotated[list[ConditionSpec] | None, Field(alias="all")] = None
    any_of: Annotated[list[ConditionSpec] | None, Field(alias="any")] = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if not isinstance(value, str) or not _ID.match(value):
            raise ValueError(f"id: lower-case letters, digits and dashes, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_list(self) -> PersonaSpec:
        lists = [c for c in (self.all_of, self.any_of) if c is not None]
        if len(lists) != 1 or not lists[0]:
            raise ValueError(f"{self.id} needs one non-empty `all:` or `any:` list")
        return self

    def persona(self) -> RulePersona:
        parts = [c.tree() for c in (self.all_of or self.any_of or [])]
        condition = exp.and_(*parts) if self.all_of is not None else exp.or_(*parts)
        return RulePersona(self.id, self.name or self.id, self.description or "", node(condition))


def _select_expr(sql: str, **params: Any) -> exp.Expression:
    return Query("SELECT " + sql, **params).tree.expressions[0]


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
    tables.publish(kr.store, kr.engine)
    return {r.persona: len(members[r.persona]) for r in rules}
