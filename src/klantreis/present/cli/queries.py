"""CLI options made from an analysis's query model, so a parameter is declared once.

    @app.command("funnel")
    @friendly_errors
    @query_command(FunnelQuery)
    def funnel_command(query: FunnelQuery, *, store: StoreOption = None, ...) -> None: ...

Each field of the query becomes an option (`--<public name>`, or the names its `Cli(...)`
marker gives) or, with `Positional()`, an argument; the command's own parameters (store, JSON,
what only the terminal shows) follow. Values reach the model as the text typed, so the model
parses and refuses them exactly as it does a Python or HTTP value: one error, field named,
exit 2 (through `friendly_errors`).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typer
from pydantic.fields import FieldInfo

from klantreis.measure.contract import AnalysisQuery, Cli, CutQuery, Positional, QueryError

F = TypeVar("F", bound=Callable[..., Any])

_METAVARS = {int: "<int>", float: "<float>"}


def _members(annotation: Any) -> list[Any]:
    """The types of a union (`str | None` → [str, NoneType]), or the type itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return list(get_args(annotation))
    return [annotation]


def _choices(annotation: Any) -> list[str]:
    found: list[str] = []
    for member in _members(annotation):
        if get_origin(member) is Literal:
            found += [str(arg) for arg in get_args(member)]
    return found


def is_list(info: FieldInfo) -> bool:
    return get_origin(info.annotation) is list


def is_flag(info: FieldInfo) -> bool:
    return info.annotation is bool


def option_names(query: type[AnalysisQuery], name: str) -> tuple[str, ...]:
    """The CLI names of a field: its `Cli(...)` marker, else `--<public name>`."""
    info = query.model_fields[name]
    for marker in info.metadata:
        if isinstance(marker, Cli):
            return marker.decls
    dashed = query.public_name(name).replace("_", "-")
    return (f"--{dashed}/--no-{dashed}",) if is_flag(info) else (f"--{dashed}",)


def is_argument(info: FieldInfo) -> bool:
    return any(isinstance(m, Positional) and m.cli_argument for m in info.metadata)


def _help(info: FieldInfo) -> str:
    text = info.description or ""
    choices = _choices(info.annotation)
    if choices and not all(choice in text for choice in choices):
        text += f" One of {', '.join(choices)}."
    return text.strip()


def _default(info: FieldInfo) -> Any:
    """The model's default as the CLI shows it (None: the option is simply left out)."""
    if info.is_required() or info.default in ([], ()):
        return None
    return info.default


def _parameter(query: type[AnalysisQuery], name: str) -> inspect.Parameter:
    info = query.model_fields[name]
    members = _members(info.annotation)
    metavar = (
        None if str in members else next((_METAVARS[m] for m in members if m in _METAVARS), None)
    )
    default: Any = None
    if is_argument(info):
        kind: Any = list[str] if is_list(info) else str
        default = inspect.Parameter.empty if info.is_required() else None
        if default is None:
            kind = kind | None
        meta: Any = typer.Argument(
            help=_help(info), metavar=query.public_name(name).upper(), show_default=False
        )
    elif is_flag(info):
        kind, default = bool, info.default
        meta = typer.Option(*option_names(query, name), help=_help(info))
    else:
        kind = list[str] | None if is_list(info) else str | None
        default = _default(info)
        meta = typer.Option(
            *option_names(query, name),
            help=_help(info),
            metavar=metavar,
            show_default=default is not None,
        )
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, meta]
    )


def field_order(query: type[AnalysisQuery]) -> list[str]:
    """Arguments first, then the analysis's own options, then the shared cut (period,
    persona), as people read `--help`."""
    names = list(query.model_fields)
    return sorted(
        names, key=lambda n: (not is_argument(query.model_fields[n]), n in CutQuery.model_fields)
    )


def _validated(query: type[AnalysisQuery], given: dict[str, Any]) -> AnalysisQuery:
    """The query from the typed values; a refused one names the option as typed (`--from`,
    not the Python field `start`) when the two differ."""
    try:
        return query.of(**given)
    except QueryError as exc:
        field = exc.field
        if field is None or field not in query.model_fields or query.public_name(field) == field:
            raise
        info = query.model_fields[field]
        label = (
            query.public_name(field).upper()
            if is_argument(info)
            else option_names(query, field)[0].split("/")[0]
        )
        raise QueryError(exc.reason, field=field, label=label) from None


def query_command(query: type[AnalysisQuery]) -> Callable[[F], F]:
    """Give a command `f(query, **own)` the query's fields as options, validated into
    `query` before `f` runs."""

    def decorate(func: F) -> F:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(func, eval_str=True).parameters.values()
            if p.name != "query"
        ]
        fields = [_parameter(query, name) for name in field_order(query)]

        @functools.wraps(func)
        def command(**values: Any) -> Any:
            given = {
                name: values.pop(name)
                for name in query.model_fields
                if values.get(name) is not None and values.get(name) != []
            }
            for name in query.model_fields:
                values.pop(name, None)
            return func(_validated(query, given), **values)

        parameters = [*fields, *own]
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        del command.__wrapped__  # type: ignore[attr-defined]
        return command  # type: ignore[return-value]

    return decorate
