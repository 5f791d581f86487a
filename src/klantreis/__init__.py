"""klantreis: customer journeys and customer experience for webshops.

The Python API for notebooks and scripts starts at `klantreis.open()`.

The names are loaded on first use, so `import klantreis.errors` (or the CLI's `--help`) does
not load DuckDB, Arrow and SQLGlot first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.api import Klantreis, Result, open

__all__ = ["Klantreis", "Result", "open"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in __all__:
        from klantreis import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
