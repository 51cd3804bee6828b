"""Per-system patch state: ``systemreport`` (fan-out per system) and ``allpatchdetails``
(fan-out per patch), pmp-api.md §6e, §6f."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pmp_intel.endpoints.base import Endpoint, PagingStyle, PMPRecord, Row
from pmp_intel.endpoints.coerce import (
    ApprovalCode,
    EpochMs,
    InstallStatusCode,
    OptInt,
    OptStr,
    PlatformCode,
    SeverityCode,
)
from pmp_intel.endpoints.registry import register

#: Columns of ``SystemPatchStateFields``, minus ``extra``.
STATE_COLUMNS = frozenset({
    "resource_id", "patch_id", "install_status", "approval_status", "deployment_status",
    "install_error_code", "installed_time", "deploy_remarks",
})


class PatchStateRecord(PMPRecord):
    """One patch on one system. ``affected_patch_status`` is the install state
    (201/202/206); ``patch_status`` is the approval state (0/211/212)."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "patch_id": ("installpatchstatus.patch_id", "customerpatchstatus.patch_id", "patchid"),
        "resource_id": ("resource.resource_id", "resourcemacip.resource_id", "resid"),
        "install_status": ("affected_patch_status",),
        "approval_status": ("patch_status",),
        "resource_name": ("resource.name",),
        "severity": ("pmseverity.name",),
    }

    non_null: ClassVar[Mapping[str, str]] = {
        "install_status": "install status (affected_patch_status) is missing",
    }
    describes_others = frozenset({
        "resource_name", "bulletin_id", "patch_name", "severity", "platform",
        "patch_released_time",
    })

    resource_id: OptInt = None
    patch_id: OptInt = None
    install_status: InstallStatusCode
    approval_status: ApprovalCode = None
    deployment_status: OptInt = None
    install_error_code: OptInt = None
    installed_time: EpochMs = None
    deploy_remarks: OptStr = None
    # Descriptive fields of the patch / system: validated, stored by allpatches/allsystems.
    resource_name: OptStr = None
    bulletin_id: OptStr = None
    patch_name: OptStr = None
    severity: SeverityCode = None
    platform: PlatformCode = None
    patch_released_time: EpochMs = None


class SystemReportRecord(PatchStateRecord):
    """A systemreport entry: must name its patch (the system is the ``resid`` parent)."""

    patch_id: int


class PatchDetailRecord(PatchStateRecord):
    """An allpatchdetails entry: must name its system (the patch is the ``patchid`` parent)."""

    resource_id: int


def _state_row(record: PatchStateRecord, resource_id: Any, patch_id: Any) -> Row:
    row = record.columns(STATE_COLUMNS)
    row["resource_id"] = resource_id
    row["patch_id"] = patch_id
    return ("system_patch_state", row)


@register
class SystemReport(Endpoint):
    """``/api/1.4/patch/systemreport?resid=…``: every patch of one system."""

    replaced_by = "dcapi_systemreport"
    name = "systemreport"
    path = "patch/systemreport"
    record_key = "systemreport"
    paging = PagingStyle.PER_SYSTEM
    parent_param = "resid"
    parent_endpoint = "allsystems"
    parent_field = "resource_id"
    model = SystemReportRecord
    entity = "system_patch_state"
    entity_columns = STATE_COLUMNS

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """One state row; ``resource_id`` is the ``resid`` parent."""
        resource = int(parent) if parent is not None else record.resource_id
        return [_state_row(record, resource, record.patch_id)]


@register
class AllPatchDetails(Endpoint):
    """``/api/1.4/patch/allpatchdetails?patchid=…``: one patch across systems. One request
    per patch: off by default."""

    name = "allpatchdetails"
    path = "patch/allpatchdetails"
    record_key = "allpatchdetails"
    paging = PagingStyle.PER_PATCH
    parent_param = "patchid"
    parent_endpoint = "allpatches"
    parent_field = "patch_id"
    default_enabled = False
    model = PatchDetailRecord
    entity = "system_patch_state"
    entity_columns = STATE_COLUMNS

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """One state row; ``patch_id`` is the ``patchid`` parent."""
        patch = int(parent) if parent is not None else record.patch_id
        return [_state_row(record, record.resource_id, patch)]
