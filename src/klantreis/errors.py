"""The one base of every error a user can fix, and how unknown names are told.

An error names what is wrong (`reason`) and where (`field`: the parameter, option or setting).
Each presenter has one handler for the base: the CLI prints one line and exits 2, the HTTP API
answers 400 `{"error", "detail", "field"}` — so a new error class needs no presenter code.
It subclasses `ValueError`, so callers that caught the old `ValueError` subclasses still do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KlantreisError(ValueError):
    """Bad input or state the user can fix; `field` names the culprit when there is one."""

    def __init__(self, reason: str, *, field: str | None = None, label: str | None = None) -> None:
        """`label` is what the message starts with when it is more precise than the field
        (`step 2` for field `step`)."""
        prefix = label or field
        super().__init__(f"{prefix}: {reason}" if prefix else reason)
        self.reason = reason
        self.field = field


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most like `name` (case-insensitive), best first."""
    by_folded: dict[str, str] = {}
    for item in known:
        by_folded.setdefault(item.casefold(), item)
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=n, cutoff=0.5)
    return [by_folded[m] for m in matches]


class UnknownName(KlantreisError):
    """A name (event, phase, persona, ...) that the store does not know.

    The message suggests the closest known names, so a misspelling is an error that says how
    to fix it instead of an answer of zeros.
    """

    def __init__(
        self, field: str, kind: str, name: str, known: Iterable[str], *, label: str | None = None
    ) -> None:
        known = sorted(set(known))
        self.name = name
        self.suggestions = closest(name, known)
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        elif known:
            shown = ", ".join(repr(k) for k in known[:8])
            hint = f"known: {shown}{', ...' if len(known) > 8 else ''}"
        else:
            hint = f"the store has no {kind}s yet"
        super().__init__(f"unknown {kind} {name!r}; {hint}", field=field, label=label)
