"""Server-reported figures: ``summary``, ``dbupdatestatus``, ``som/summary``
(pmp-api.md §6g, §6k). They fill the per-snapshot ``ServerSummary`` row
(pmp_intel/store/models/summary.py) through :meth:`Endpoint.summary_columns`."""

from __future__ import annotations

from typing import Any

from pmp_intel.endpoints.base import Endpoint, PagingStyle, PMPRecord
from pmp_intel.endpoints.coerce import EpochMs, OptBool, OptInt, OptStr
from pmp_intel.endpoints.registry import register


class PatchSummary(PMPRecord):
    """``summary.patch_summary``."""

    installed_patches: OptInt = None
    applicable_patches: OptInt = None
    new_patches: OptInt = None
    missing_patches: OptInt = None


class SeveritySummary(PMPRecord):
    """``summary.missing_patch_severity_summary``."""

    critical_count: OptInt = None
    important_count: OptInt = None
    moderate_count: OptInt = None
    low_count: OptInt = None
    unrated_count: OptInt = None
    total_count: OptInt = None


class SystemSummary(PMPRecord):
    """``summary.system_summary``."""

    total_systems: OptInt = None
    healthy_systems: OptInt = None
    moderately_vulnerable_systems: OptInt = None
    highly_vulnerable_systems: OptInt = None
    health_unknown_systems: OptInt = None


class ScanSummary(PMPRecord):
    """``summary.patch_scan_summary``."""

    scanned_systems: OptInt = None
    unscanned_system_count: OptInt = None
    scan_success_count: OptInt = None
    scan_failure_count: OptInt = None


class DbUpdateRecord(PMPRecord):
    """``summary.vulnerability_db_summary`` and the ``dbupdatestatus`` object."""

    last_db_update_status: OptStr = None
    last_db_update_time: EpochMs = None
    is_auto_db_update_disabled: OptBool = None
    db_update_in_progress: OptBool = None
    next_db_update_time: EpochMs = None


class ApdSummary(PMPRecord):
    """``summary.apd_summary``."""

    number_of_apd_tasks: OptInt = None


class SummaryRecord(PMPRecord):
    """The ``summary`` object."""

    patch_summary: PatchSummary | None = None
    missing_patch_severity_summary: SeveritySummary | None = None
    system_summary: SystemSummary | None = None
    patch_scan_summary: ScanSummary | None = None
    vulnerability_db_summary: DbUpdateRecord | None = None
    apd_summary: ApdSummary | None = None


class SomSummaryRecord(PMPRecord):
    """``som/summary``: undocumented fields, all kept in ``extra``."""


def _db_columns(db: DbUpdateRecord | None) -> dict[str, Any]:
    if db is None:
        return {}
    return {
        "last_db_update_status": db.last_db_update_status,
        "last_db_update_time": db.last_db_update_time,
        "auto_db_update_disabled": db.is_auto_db_update_disabled,
        "db_update_in_progress": db.db_update_in_progress,
    }


@register
class Summary(Endpoint):
    """``/api/1.4/patch/summary`` (one object; no entity: ``ServerSummary`` columns)."""

    name = "summary"
    path = "patch/summary"
    record_key = "summary"
    paging = PagingStyle.SINGLE
    model = SummaryRecord

    def summary_columns(self, record: Any) -> dict[str, Any]:
        """``ServerSummary`` columns, plus ``raw`` = ``{"summary": <normalised object>}``."""
        columns: dict[str, Any] = {}
        patch, severity = record.patch_summary, record.missing_patch_severity_summary
        systems, scan, apd = record.system_summary, record.patch_scan_summary, record.apd_summary
        if patch is not None:
            columns.update(
                installed_patches=patch.installed_patches,
                applicable_patches=patch.applicable_patches,
                new_patches=patch.new_patches,
                missing_patches=patch.missing_patches,
            )
        if severity is not None:
            columns.update(
                missing_critical=severity.critical_count,
                missing_important=severity.important_count,
                missing_moderate=severity.moderate_count,
                missing_low=severity.low_count,
                missing_unrated=severity.unrated_count,
                missing_total=severity.total_count,
            )
        if systems is not None:
            columns.update(
                total_systems=systems.total_systems,
                healthy_systems=systems.healthy_systems,
                moderately_vulnerable_systems=systems.moderately_vulnerable_systems,
                highly_vulnerable_systems=systems.highly_vulnerable_systems,
                health_unknown_systems=systems.health_unknown_systems,
            )
        if scan is not None:
            columns.update(
                scanned_systems=scan.scanned_systems,
                unscanned_systems=scan.unscanned_system_count,
                scan_success_count=scan.scan_success_count,
                scan_failure_count=scan.scan_failure_count,
            )
        if apd is not None:
            columns["apd_tasks"] = apd.number_of_apd_tasks
        columns.update(_db_columns(record.vulnerability_db_summary))
        columns["raw"] = {"summary": record.model_dump(mode="json")}
        return columns


@register
class DbUpdateStatus(Endpoint):
    """``/api/1.4/patch/dbupdatestatus`` (one object). PMP's docs say "not applicable for
    cloud"; C3 saw it work there."""

    name = "dbupdatestatus"
    path = "patch/dbupdatestatus"
    record_key = "dbupdatestatus"
    paging = PagingStyle.SINGLE
    model = DbUpdateRecord

    def summary_columns(self, record: Any) -> dict[str, Any]:
        """The vulnerability-database columns, plus ``raw = {"dbupdatestatus": …}``."""
        columns = _db_columns(record)
        columns["raw"] = {"dbupdatestatus": record.model_dump(mode="json")}
        return columns


@register
class SomSummary(Endpoint):
    """``/api/1.4/som/summary`` (one object, fields undocumented)."""

    name = "som_summary"
    path = "som/summary"
    record_key = "summary"
    alt_record_keys = ("somsummary", "som_summary")
    paging = PagingStyle.SINGLE
    model = SomSummaryRecord

    def summary_columns(self, record: Any) -> dict[str, Any]:
        """``som_summary``: the object as sent."""
        return {"som_summary": dict(record.extra)}
