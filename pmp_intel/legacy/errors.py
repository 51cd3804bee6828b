"""Errors of the legacy import: each names the file (and table) at fault, on one line."""

from __future__ import annotations

from pmp_intel.errors import PMPIntelError


class LegacyImportError(PMPIntelError):
    """The legacy import cannot run; the target database is left as it was."""


class LegacyFileError(LegacyImportError):
    """A legacy file is missing, locked, corrupt, foreign or has a table of unexpected shape."""


class LegacyConflictError(LegacyImportError):
    """The target already holds data the import would contradict (another import, or newer
    snapshots in the chosen source)."""
