"""pmp-intel: a ManageEngine Patch Manager Plus estate as one trustworthy, trendable database.

The public face (stable, documented in docs/)::

    from pmp_intel import Extractor, MetricsCalculator, ComplianceChecker, PMPIntelligenceService

Those four arrive with their issues; :mod:`pmp_intel.db` and :class:`Settings` are here now.
"""

from pmp_intel.__about__ import __version__
from pmp_intel.settings import Settings

__all__ = ["Settings", "__version__"]
