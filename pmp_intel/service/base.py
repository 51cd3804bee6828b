"""The legacy ``BaseIntelligenceService`` contract, kept for tools written against it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pmp_intel.service.results import STALENESS_THRESHOLD_DAYS, FreshnessInfo, QueryResult


class BaseIntelligenceService(ABC):
    """A read-only intelligence source: freshness, raw queries, refresh.

    Concrete services implement the three abstract methods; :meth:`is_stale` follows.
    """

    STALENESS_THRESHOLD_DAYS = STALENESS_THRESHOLD_DAYS

    @abstractmethod
    def get_data_freshness_report(self) -> dict[str, FreshnessInfo]:
        """Freshness of each database the service reads, keyed by database name."""

    @abstractmethod
    def query_raw(self, sql: str, params: Any = ()) -> QueryResult:
        """Run one read-only SQL query."""

    @abstractmethod
    def refresh(self) -> bool:
        """Fetch new data from the source; True on success."""

    def is_stale(self) -> bool:
        """True when any database in the freshness report is stale (or there is none)."""
        report = self.get_data_freshness_report()
        return not report or any(info.is_stale for info in report.values())
