"""Analyses by name, so the Python API, CLI and HTTP API share one list.

An analysis is a runner `(kr: Context, **fields) -> result` registered with its typed query
(`measure/contract.py`) and its declared result type:

    class FunnelQuery(CutQuery): ...

    @analysis("funnel", query=FunnelQuery, result=FunnelResult)
    def funnel(kr: Context, steps, *, window="7d", ...) -> FunnelResult: ...

The runner's parameters are the query's fields (a contract test holds them equal); the query
validates them once, before the runner runs (`AnalysisSpec.run`).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.measure.contract import AnalysisQuery


@dataclass(frozen=True)
class AnalysisSpec:
    """One analysis: its name, typed query, runner and declared result type."""

    name: str
    function: Callable[..., Any]
    query: type[AnalysisQuery] | None
    result: type | None

    def run(self, kr: Any, query: AnalysisQuery) -> Any:
        """Run on an already validated query (a presenter's subclass of it, with options of
        its own, passes only the analysis's fields on)."""
        if self.query is None or not isinstance(query, self.query):
            raise TypeError(f"{self.name} takes a {self.query}, not {type(query).__name__}")
        return self.function(kr, **{name: getattr(query, name) for name in self.query.model_fields})

    def call(self, kr: Any, **params: Any) -> Any:
        """Validate Python parameters into the query, then run (an untyped analysis runs as
        it is)."""
        if self.query is None:
            return self.function(kr, **params)
        return self.run(kr, self.query.of(**params))


_ANALYSES: dict[str, Callable[..., Any]] = {}
_CONTRACTS: dict[str, tuple[type[AnalysisQuery] | None, type | None]] = {}
_loaded = False
_loading = threading.RLock()


def analysis(
    name: str, *, query: type[AnalysisQuery] | None = None, result: type | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a runner under `name` with its query model and result type (a bare `dict` or
    `list` is refused: a summary is an `AnalysisResult`, a table a `Result`)."""
    if result in (dict, list):
        raise TypeError(f"{name}: declare a typed result, not a bare {result.__name__}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _ANALYSES[name] = func
        _CONTRACTS[name] = (query, result)
        return func

    return decorate


def _load_all() -> None:
    """Import every analysis module once; a second thread waits until all are registered
    (it found a half-filled registry before, and `kr.funnel` was an AttributeError)."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        import klantreis.measure as measure
        import klantreis.model as model

        for package in (model, measure):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        _loaded = True


def get_spec(name: str) -> AnalysisSpec | None:
    _load_all()
    func = _ANALYSES.get(name)
    if func is None:
        return None
    query, result = _CONTRACTS.get(name, (None, None))
    return AnalysisSpec(name, func, query, result)


def get_analysis(name: str) -> Callable[..., Any] | None:
    """The runner itself (keyword parameters, not validated by the query)."""
    _load_all()
    return _ANALYSES.get(name)


def specs() -> dict[str, AnalysisSpec]:
    _load_all()
    return {name: spec for name in list(_ANALYSES) if (spec := get_spec(name)) is not None}


def analyses() -> dict[str, Callable[..., Any]]:
    _load_all()
    return dict(_ANALYSES)
