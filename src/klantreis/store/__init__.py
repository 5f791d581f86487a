"""The store: append-only events, quarantine, and the tables derived from them."""

from klantreis.store.store import AppendResult, Store, StoreLockedError

__all__ = ["AppendResult", "Store", "StoreLockedError"]
