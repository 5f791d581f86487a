"""Reading the model and the results stored after it as they are, without refreshing them.

The dashboard's pages must answer in a second, also right after new events; refreshing the
model, judging the cases or computing the map's lanes takes minutes at shop scale. When the
server's routine keeps them current (it refreshes the model and then everything stored after
it), a page reads within `as_built()`: `ensure_built` leaves a model that exists as it is, and
the stored results after it (cases, scorecard, lanes, voice) are read, stale or not, never
computed on the request. Where nothing is stored yet, it is computed as always.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_AS_BUILT: ContextVar[bool] = ContextVar("klantreis_as_built", default=False)


@contextmanager
def as_built() -> Iterator[None]:
    """Within this block, read the stored model and results; refresh none of them."""
    token = _AS_BUILT.set(True)
    try:
        yield
    finally:
        _AS_BUILT.reset(token)


def reading_as_built() -> bool:
    """Whether the caller reads stored results as they are (see `as_built`)."""
    return _AS_BUILT.get()
