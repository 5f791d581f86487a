"""Rule kinds: one module per kind, each registered by name (see `base.py`, `registry.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.expectations.kinds.registry import (
    RuleKindError,
    register_kind,
    registered,
    unregister_kind,
)

if TYPE_CHECKING:
    from klantreis.measure.expectations.kinds.base import RuleKind

BUILT_IN = ("deadline", "absence", "rate", "percentile", "repeat", "consent")
"""The kinds the product ships; each module registers itself when imported."""

__all__ = ["BUILT_IN", "RuleKindError", "kind_of", "kinds", "register_kind", "unregister_kind"]


def kinds() -> dict[str, RuleKind]:
    """Every registered kind by name, the built-in ones first."""
    import importlib

    for name in BUILT_IN:
        importlib.import_module(f"{__name__}.{name}")
    return registered()


def kind_of(rule: Any) -> RuleKind:
    """The kind a rule belongs to."""
    found = kinds().get(rule.kind)
    if found is None:
        raise RuleKindError(f"rule {rule.id}: kind {rule.kind!r} is not registered", field="kind")
    return found
