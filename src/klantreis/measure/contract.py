"""The typed contract of an analysis: one query model in, one declared result out.

Each analysis declares an `AnalysisQuery` subclass next to its runner and registers both
(`@analysis("funnel", query=FunnelQuery, result=FunnelResult)` in `measure/registry.py`). The
query is the one place a parameter is declared: the Python method `kr.funnel(...)` checks its
signature against it (a contract test), the CLI derives its options from it
(`present/cli/queries.py`) and the read API its query parameters and OpenAPI description
(`Annotated[FunnelQuery, Query()]`). A parameter is validated once, by the model, and a bad
value is the same `QueryError` (field named) on every presenter.

Field conventions:
- the Python name is the field name; the public name (CLI `--option`, HTTP `?param=`) is its
  alias when it has one (`start` is `--from`/`?from=`), else the field name;
- `Positional()` in a field's `Annotated` metadata makes it a CLI argument and a positional
  parameter of the Python method;
- `Cli("--start-event", "--from-event")` gives a field its CLI option names (the first is the
  documented one, the others kept for old scripts); for a boolean, `Cli("--yes/--no")`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from klantreis.errors import KlantreisError


class QueryError(KlantreisError):
    """A parameter of an analysis that its query model refuses (type, range, choice)."""


@dataclass(frozen=True)
class Positional:
    """Marks a field the Python method takes positionally and (unless `cli_argument` is
    False) the CLI as an argument."""

    cli_argument: bool = True


class Cli:
    """The CLI option names of a field, when its public name does not say it all."""

    def __init__(self, *decls: str) -> None:
        self.decls = decls

    def __repr__(self) -> str:
        return f"Cli{self.decls!r}"


class AnalysisQuery(BaseModel):
    """The base of every analysis's query: unknown parameters refused, values immutable.

    HTTP validates by the public name (alias) only, so `?start=` is not taken for `?from=`;
    Python builds the query by field name (`of`).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        loc_by_alias=False,
    )

    @classmethod
    def of(cls, **params: Any) -> Self:
        """The query from Python names; a refused value is a `QueryError` naming the field."""
        try:
            return cls.model_validate(params, by_name=True, by_alias=False)
        except ValidationError as exc:
            raise query_error(exc) from None

    @classmethod
    def public_name(cls, field: str) -> str:
        """The CLI/HTTP name of a field: its alias, or the field name."""
        return cls.model_fields[field].alias or field

    def arguments(self) -> dict[str, Any]:
        """The values by Python name, one per field."""
        return {name: getattr(self, name) for name in type(self).model_fields}


def _moment(value: Any) -> Any:
    """An ISO timestamp as a naive UTC datetime (the store's timestamps have no zone)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO timestamp: {value!r} (e.g. 2026-03-01T12:00)") from None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    return value


Moment = Annotated[datetime | None, BeforeValidator(_moment)]
"""A moment given as ISO text or a datetime (`now` of the expectation analyses)."""


def iso_date(value: Any) -> Any:
    """An ISO date or moment given as text, kept as the text (the runners cut with it); empty
    text is no bound. Refused here, by the query model, so a bad date is the same `QueryError`
    (HTTP 422, CLI exit 2 naming the option) before any analysis runs."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"not an ISO date: {value!r} (e.g. 2026-03-01)")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO date: {value!r} (e.g. 2026-03-01)") from None
    return value


IsoDate = Annotated[str | None, BeforeValidator(iso_date)]
"""A date-like parameter as ISO text (`2026-03-01`, `2026-03-01T12:00`), checked by the model."""


class PeriodQuery(AnalysisQuery):
    """A period (`start`/`end`, CLI `--from`/`--to`, HTTP `?from=`/`?to=`), for an analysis
    that cannot cut by persona; the model refuses a date that is no ISO date."""

    start: IsoDate = Field(None, alias="from", description="Only events from this ISO date.")
    end: IsoDate = Field(None, alias="to", description="Only events before this ISO date.")


class CutQuery(PeriodQuery):
    """The cut most analyses share: the period and a persona."""

    persona: str | None = Field(None, description="Only persons of this persona.")


class AnalysisResult(BaseModel):
    """A result that is its fields (a summary, not a table): the same typed object for
    Python, and `as_json()` for what `--json` prints and the read API answers."""

    model_config = ConfigDict(frozen=True)

    def as_json(self) -> Any:
        """The fields as JSON values (moments as ISO text), names as in Python."""
        return self.model_dump(mode="json")


PUBLIC_ALIASES = {"from": "start", "to": "end"}
"""Public names that differ from the Python field they fill, for errors raised outside a
model (the HTTP validation handler sees only the public name)."""


def field_of(public: str) -> str:
    """The Python field a public parameter name fills."""
    return PUBLIC_ALIASES.get(public, public)


def describe(errors: list[Any]) -> tuple[str | None, str]:
    """The field and the reason of the first validation error (pydantic's wording)."""
    if not errors:
        return None, "invalid parameters"
    first = errors[0]
    location = [part for part in first.get("loc", ()) if part not in ("query", "body")]
    field = field_of(str(location[0])) if location else None
    reason = str(first.get("msg", "invalid value"))
    if first.get("type") == "value_error" and "error" in first.get("ctx", {}):
        reason = str(first["ctx"]["error"])  # our own wording, without pydantic's prefix
    elif first.get("type") == "missing":
        reason = "required"
    elif first.get("type") == "extra_forbidden":
        reason = "not a parameter of this analysis"
    return field, reason


def query_error(exc: ValidationError) -> QueryError:
    field, reason = describe(exc.errors())
    return QueryError(reason, field=field)
