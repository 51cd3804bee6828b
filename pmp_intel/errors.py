"""Exceptions that pmp-intel raises on purpose.

Every one carries a message fit to print as the single error line of the CLI; none of them
may carry a secret. The CLI maps them to exit codes (``exit_code``).
"""

from __future__ import annotations


class PMPIntelError(Exception):
    """Base class of every error pmp-intel raises deliberately."""

    exit_code: int = 1


class ConfigurationError(PMPIntelError):
    """A setting is missing or malformed."""


class DatabaseError(PMPIntelError):
    """The unified database cannot be reached, opened or migrated."""


class MigrationsNotFoundError(DatabaseError):
    """The Alembic scripts are neither inside the installed package nor in a checkout."""
