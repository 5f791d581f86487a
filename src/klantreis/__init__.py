"""klantreis: customer journeys and customer experience for webshops.

The Python API for notebooks and scripts starts at `klantreis.open()`.
"""

from klantreis.api import Klantreis, Result, open

__all__ = ["Klantreis", "Result", "open"]
__version__ = "0.1.0"
