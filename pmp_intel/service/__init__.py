"""The read-only intelligence service: the query facade for tools and notebooks.

>>> from pmp_intel.service import PMPIntelligenceService  # doctest: +SKIP
>>> PMPIntelligenceService().get_vulnerable_systems().to_pandas()  # doctest: +SKIP

See docs/service.md.
"""

from pmp_intel.service.base import BaseIntelligenceService
from pmp_intel.service.readonly import ReadOnlyViolation
from pmp_intel.service.results import (
    FreshnessInfo,
    FreshnessReport,
    PMPQueryResult,
    QueryResult,
)
from pmp_intel.service.service import DetailResult, PMPIntelligenceService, SnapshotDiffResult

__all__ = [
    "BaseIntelligenceService",
    "DetailResult",
    "FreshnessInfo",
    "FreshnessReport",
    "PMPIntelligenceService",
    "PMPQueryResult",
    "QueryResult",
    "ReadOnlyViolation",
    "SnapshotDiffResult",
]
