"""The one place rule kinds are registered and found by name.

Built-in kinds register when `klantreis.measure.expectations.kinds` is imported; a shop's or a
test's kind registers itself the same way (`register_kind(MyKind())`) and from then on is read
from rule files, compiled, judged, scored and shown on the settings page like the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klantreis.errors import KlantreisError

if TYPE_CHECKING:
    from klantreis.measure.expectations.kinds.base import RuleKind

_KINDS: dict[str, RuleKind] = {}
LANGUAGES = ("en", "nl", "da")


class RuleKindError(KlantreisError):
    """A rule kind that cannot be registered (a name taken, a label missing)."""


def register_kind(kind: RuleKind, *, replace: bool = False) -> RuleKind:
    """Add `kind` under its name; its label must exist in every language the product speaks."""
    if kind.name in _KINDS and not replace:
        raise RuleKindError(f"rule kind {kind.name!r} is registered already", field="kind")
    spec_kind = kind.spec.model_fields.get("kind")
    if spec_kind is None or spec_kind.annotation is str:
        raise RuleKindError(
            f"rule kind {kind.name!r}: its spec must declare kind: Literal[{kind.name!r}]",
            field="kind",
        )
    label = kind.terms.get("rule_kind", {}).get(kind.name, {})
    missing = [lang for lang in LANGUAGES if not label.get(lang)]
    if missing:
        raise RuleKindError(
            f"rule kind {kind.name!r}: no label in {', '.join(missing)} (terms['rule_kind'])",
            field="kind",
        )
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove a kind (a test's own kind, after the test)."""
    _KINDS.pop(name, None)


def registered() -> dict[str, RuleKind]:
    return dict(_KINDS)
