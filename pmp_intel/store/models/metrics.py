"""Figures pmp-intel computes per snapshot. One set of rows per snapshot, replaced on
recomputation; ``scope`` / ``scope_value`` give the breakdown ('total' / '' for the
headline row)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmp_intel.store.models.base import Base, SnapshotScoped, domain_check
from pmp_intel.store.models.codes import Severity, domain

SCOPES = ("total", "category", "platform", "security", "organisation", "os", "cve")


def _scoped(table: str, *checks: CheckConstraint) -> tuple[object, ...]:
    return (
        UniqueConstraint("snapshot_id", "scope", "scope_value", name=f"uq_{table}_scope"),
        domain_check("scope", SCOPES),
        *checks,
    )


def _sum_equals(name: str, total: str, *parts: str) -> CheckConstraint:
    return CheckConstraint(f"{total} = {' + '.join(parts)}", name=name)


class _Scope:
    scope: Mapped[str] = mapped_column(String(16), default="total")
    scope_value: Mapped[str] = mapped_column(String(255), default="")


class PatchMetric(SnapshotScoped, _Scope, Base):
    """Applicable / installed / missing / failed, as system-patch pairs and distinct patches."""

    __tablename__ = "patch_metrics"
    __table_args__ = _scoped(
        "patch_metrics",
        _sum_equals(
            "pairs_sum", "applicable_pairs", "installed_pairs", "missing_pairs", "failed_pairs"
        ),
    )

    applicable_pairs: Mapped[int] = mapped_column(Integer, default=0)
    installed_pairs: Mapped[int] = mapped_column(Integer, default=0)
    missing_pairs: Mapped[int] = mapped_column(Integer, default=0)
    failed_pairs: Mapped[int] = mapped_column(Integer, default=0)
    applicable_patches: Mapped[int] = mapped_column(Integer, default=0)
    installed_patches: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches: Mapped[int] = mapped_column(Integer, default=0)
    failed_patches: Mapped[int] = mapped_column(Integer, default=0)
    systems: Mapped[int] = mapped_column(Integer, default=0)


class SeverityMetric(SnapshotScoped, _Scope, Base):
    """Missing and failed system-patch pairs (and distinct missing patches) by vendor severity;
    buckets sum to the totals."""

    __tablename__ = "severity_metrics"
    __table_args__ = _scoped(
        "severity_metrics",
        _sum_equals(
            "missing_sum",
            "missing_total",
            "missing_critical",
            "missing_important",
            "missing_moderate",
            "missing_low",
            "missing_unrated",
        ),
        _sum_equals(
            "failed_sum",
            "failed_total",
            "failed_critical",
            "failed_important",
            "failed_moderate",
            "failed_low",
            "failed_unrated",
        ),
        _sum_equals(
            "missing_patches_sum",
            "missing_patches_total",
            "missing_patches_critical",
            "missing_patches_important",
            "missing_patches_moderate",
            "missing_patches_low",
            "missing_patches_unrated",
        ),
    )

    missing_critical: Mapped[int] = mapped_column(Integer, default=0)
    missing_important: Mapped[int] = mapped_column(Integer, default=0)
    missing_moderate: Mapped[int] = mapped_column(Integer, default=0)
    missing_low: Mapped[int] = mapped_column(Integer, default=0)
    missing_unrated: Mapped[int] = mapped_column(Integer, default=0)
    missing_total: Mapped[int] = mapped_column(Integer, default=0)
    failed_critical: Mapped[int] = mapped_column(Integer, default=0)
    failed_important: Mapped[int] = mapped_column(Integer, default=0)
    failed_moderate: Mapped[int] = mapped_column(Integer, default=0)
    failed_low: Mapped[int] = mapped_column(Integer, default=0)
    failed_unrated: Mapped[int] = mapped_column(Integer, default=0)
    failed_total: Mapped[int] = mapped_column(Integer, default=0)
    #: Distinct patches missing (or failed) on at least one system, by severity: the figures
    #: the server's own ``missing_patch_severity_summary`` reports.
    missing_patches_critical: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches_important: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches_moderate: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches_low: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches_unrated: Mapped[int] = mapped_column(Integer, default=0)
    missing_patches_total: Mapped[int] = mapped_column(Integer, default=0)


class SystemHealthMetric(SnapshotScoped, _Scope, Base):
    """Health, liveness, scan state and stale agents; each family sums to ``total_systems``."""

    __tablename__ = "system_health_metrics"
    __table_args__ = _scoped(
        "system_health_metrics",
        _sum_equals(
            "health_sum",
            "total_systems",
            "healthy",
            "vulnerable",
            "highly_vulnerable",
            "health_unknown",
        ),
        _sum_equals("live_sum", "total_systems", "live", "down", "live_unknown"),
        _sum_equals(
            "scan_sum",
            "total_systems",
            "scan_succeeded",
            "scan_failed",
            "scan_in_progress",
            "not_scanned",
        ),
        CheckConstraint("stale_agents <= total_systems", name="stale_le_total"),
    )

    total_systems: Mapped[int] = mapped_column(Integer, default=0)
    healthy: Mapped[int] = mapped_column(Integer, default=0)
    vulnerable: Mapped[int] = mapped_column(Integer, default=0)
    highly_vulnerable: Mapped[int] = mapped_column(Integer, default=0)
    health_unknown: Mapped[int] = mapped_column(Integer, default=0)
    live: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    live_unknown: Mapped[int] = mapped_column(Integer, default=0)
    scan_succeeded: Mapped[int] = mapped_column(Integer, default=0)
    scan_failed: Mapped[int] = mapped_column(Integer, default=0)
    scan_in_progress: Mapped[int] = mapped_column(Integer, default=0)
    not_scanned: Mapped[int] = mapped_column(Integer, default=0)
    stale_agents: Mapped[int] = mapped_column(Integer, default=0)


class VulnerabilityMetric(SnapshotScoped, _Scope, Base):
    """CVE exposure: headline ('total') and one row per exposed CVE (scope 'cve')."""

    __tablename__ = "vulnerability_metrics"
    __table_args__ = _scoped(
        "vulnerability_metrics",
        CheckConstraint("max_cvss IS NULL OR (max_cvss >= 0 AND max_cvss <= 10)", "max_cvss_range"),
    )

    cves_exposed: Mapped[int] = mapped_column(Integer, default=0)
    systems_exposed: Mapped[int] = mapped_column(Integer, default=0)
    pairs_exposed: Mapped[int] = mapped_column(Integer, default=0)
    known_exploited_cves: Mapped[int] = mapped_column(Integer, default=0)
    max_cvss: Mapped[float | None] = mapped_column(Float)
    mean_cvss: Mapped[float | None] = mapped_column(Float)


class TimeToPatchMetric(SnapshotScoped, Base):
    """Hours from a patch's release to its install on a system, by severity."""

    __tablename__ = "time_to_patch_metrics"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "severity", name="uq_time_to_patch_metrics_severity"),
        domain_check("severity", domain(Severity)),
    )

    severity: Mapped[int | None] = mapped_column(SmallInteger)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    mean_hours: Mapped[float | None] = mapped_column(Float)
    median_hours: Mapped[float | None] = mapped_column(Float)
    p90_hours: Mapped[float | None] = mapped_column(Float)
