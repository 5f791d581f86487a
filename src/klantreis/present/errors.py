"""What a user may read of a failure, on a page or in a read-API answer.

klantreis's own errors (`ValueError` subclasses defined in the package) are written for the
person who caused them: they name the option and what is wrong. Anything else (an engine's
binder or catalog error) names tables, columns and candidate bindings of the store's insides,
so only the fact that it failed is shown; the server log keeps the whole traceback.
"""

from __future__ import annotations

INTERNAL = "an internal error stopped it; the server log has the details"


def user_message(exc: BaseException) -> str:
    """The message of one of our own errors, or the generic `INTERNAL` for anything else."""
    if isinstance(exc, ValueError) and type(exc).__module__.startswith("klantreis."):
        return str(exc)
    return INTERNAL
