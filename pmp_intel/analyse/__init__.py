"""Analysis of snapshots: metrics, Essential Eight compliance, reports.

>>> from pmp_intel.analyse import MetricsCalculator, ComplianceChecker  # doctest: +SKIP
"""

from pmp_intel.analyse.categories import PatchCategory, PatchClass, PatchClassifier
from pmp_intel.analyse.compliance import (
    ComplianceChecker,
    ComplianceReport,
    ControlResult,
    StrategyResult,
    TrendPoint,
)
from pmp_intel.analyse.config import CONFIG_ENV, ComplianceConfig, InternetFacing
from pmp_intel.analyse.kev import KevImportResult, import_kev
from pmp_intel.analyse.metrics import (
    Delta,
    MetricDeltas,
    MetricsCalculator,
    SnapshotMetrics,
    compare_with_summary,
)
from pmp_intel.analyse.profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from pmp_intel.analyse.report import render_report

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_PROFILE",
    "PROFILES",
    "ComplianceChecker",
    "ComplianceConfig",
    "ComplianceReport",
    "ControlResult",
    "Delta",
    "InternetFacing",
    "KevImportResult",
    "MetricDeltas",
    "MetricsCalculator",
    "PatchCategory",
    "PatchClass",
    "PatchClassifier",
    "Profile",
    "SnapshotMetrics",
    "StrategyResult",
    "TrendPoint",
    "compare_with_summary",
    "get_profile",
    "import_kev",
    "render_report",
]
