"""Analyses by name, so the Python API, CLI and HTTP API share one list.

An analysis is a function `(kr: Context, **params) -> Result | dict`; registering it makes it
`kr.<name>(...)` in the Python API.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from typing import Any

_ANALYSES: dict[str, Callable[..., Any]] = {}
_loaded = False
_loading = threading.RLock()


def analysis(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _ANALYSES[name] = func
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


def get_analysis(name: str) -> Callable[..., Any] | None:
    _load_all()
    return _ANALYSES.get(name)


def analyses() -> dict[str, Callable[..., Any]]:
    _load_all()
    return dict(_ANALYSES)
