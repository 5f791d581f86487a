"""Imports: exports of a shop (Olist, REES46, any CSV / JSON lines / Parquet) as events.

    from klantreis.collect.imports import import_olist, import_file
    summary = import_olist(store, "data/olist")
    summary = import_file(store, "orders.csv", "mappings/orders.yaml")

Bad rows go to the quarantine with file, line, column and reason; the import goes on. A file
or mapping that cannot be used at all raises `ImportFailed` with a one-line message.
"""

from klantreis.collect.imports.errors import ImportFailed, MappingError
from klantreis.collect.imports.files import import_file
from klantreis.collect.imports.mapping import Mapping, builtin_mappings, load_mapping
from klantreis.collect.imports.olist import import_olist
from klantreis.collect.imports.summary import ImportSummary

__all__ = [
    "ImportFailed",
    "ImportSummary",
    "Mapping",
    "MappingError",
    "builtin_mappings",
    "import_file",
    "import_olist",
    "load_mapping",
]
