"""Errors the analysis layer raises on purpose (one printable line each)."""

from __future__ import annotations

from pmp_intel.errors import ConfigurationError, PMPIntelError


class SnapshotNotFoundError(PMPIntelError):
    """The snapshot (or the source's latest snapshot) does not exist."""


class MetricsNotComputedError(PMPIntelError):
    """Metrics were asked for a snapshot that has none stored."""


class KevFormatError(PMPIntelError):
    """A file is not a CISA Known Exploited Vulnerabilities catalogue in the public JSON format."""


class ComplianceConfigError(ConfigurationError):
    """The compliance configuration file is missing or invalid."""


class UnknownProfileError(ConfigurationError):
    """A rule profile name that pmp-intel does not ship."""
