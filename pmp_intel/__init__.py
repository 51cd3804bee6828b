"""pmp-intel: a ManageEngine Patch Manager Plus estate as one trustworthy, trendable database.

The public face (stable, documented in docs/)::

    from pmp_intel import Extractor, MetricsCalculator, ComplianceChecker, PMPIntelligenceService

    result = Extractor(Settings()).run()                 # one snapshot of the PMP server
    metrics = MetricsCalculator(engine).get(result.snapshot_id)
    report = ComplianceChecker(engine).evaluate(result.snapshot_id)

Names are imported on first use, so ``import pmp_intel`` stays cheap for tools that only
need a part of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pmp_intel.__about__ import __version__
from pmp_intel.settings import Settings

if TYPE_CHECKING:
    from pmp_intel.analyse import ComplianceChecker, MetricsCalculator
    from pmp_intel.extract.extractor import Extractor
    from pmp_intel.extract.result import ExtractionResult
    from pmp_intel.service import PMPIntelligenceService, PMPQueryResult, QueryResult

_LAZY = {
    "Extractor": "pmp_intel.extract.extractor",
    "ExtractionResult": "pmp_intel.extract.result",
    "MetricsCalculator": "pmp_intel.analyse",
    "ComplianceChecker": "pmp_intel.analyse",
    "PMPIntelligenceService": "pmp_intel.service",
    "PMPQueryResult": "pmp_intel.service",
    "QueryResult": "pmp_intel.service",
}

__all__ = [
    "ComplianceChecker",
    "ExtractionResult",
    "Extractor",
    "MetricsCalculator",
    "PMPIntelligenceService",
    "PMPQueryResult",
    "QueryResult",
    "Settings",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pmp_intel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
