"""Errors an import stops on: the input as a whole cannot be used (not a bad row)."""

from __future__ import annotations

from klantreis.errors import KlantreisError


class ImportFailed(KlantreisError):
    """A missing file, an unknown format, a mapping that does not fit the file.

    The message is one line naming the file (and the column or mapping key); the CLI prints it
    and exits 2. Bad *rows* never raise: they go to the quarantine.
    """


class MappingError(ImportFailed):
    """A mapping file that is not valid YAML, has a wrong key, or names an absent column."""
