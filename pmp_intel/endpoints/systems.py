"""Managed systems: ``allsystems`` and ``scandetails`` (pmp-api.md §6c, §6d)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pmp_intel.endpoints.base import Endpoint, PMPRecord
from pmp_intel.endpoints.coerce import (
    AgentStatusCode,
    EpochMs,
    HealthCode,
    LiveStatusCode,
    OptBool,
    OptInt,
    OptStr,
    PlatformCode,
    ScanStatusCode,
)
from pmp_intel.endpoints.registry import register

#: Columns of ``SystemFields`` (pmp_intel/store/models/inventory.py), minus ``extra``.
SYSTEM_COLUMNS = frozenset({
    "resource_id", "resource_name", "domain_netbios_name", "branch_office_id",
    "branch_office_name", "customer_id", "customer_name", "ip_address", "mac_address",
    "os_name", "os_platform", "os_platform_name", "os_language", "service_pack",
    "agent_version", "agent_installed_on", "agent_installation_status",
    "agent_last_contact_time", "agent_last_bootup_time", "computer_live_status",
    "resource_health_status", "scan_status", "last_scan_time", "last_successful_scan_time",
    "last_patched_time", "missing_ms_patches", "missing_tp_patches", "missing_driver_patches",
    "missing_bios_patches", "installed_ms_patches", "installed_tp_patches",
    "installed_driver_patches", "installed_bios_patches", "critical_patch_count",
    "important_patch_count", "moderate_patch_count", "low_patch_count", "reboot_required",
    "description",
})

#: The subset scandetails sends (its rows are partial system rows).
SCAN_COLUMNS = frozenset({
    "resource_id", "resource_name", "domain_netbios_name", "branch_office_id",
    "branch_office_name", "os_language", "os_platform", "os_platform_name",
    "agent_installed_on", "agent_installation_status", "computer_live_status",
    "resource_health_status", "scan_status", "last_scan_time", "last_successful_scan_time",
    "description", "os_name", "agent_version", "agent_last_contact_time", "ip_address",
})


class SystemRecord(PMPRecord):
    """One system as allsystems / scandetails send it."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "resource_id": ("resource.resource_id", "pmreshealthstatus.resource_id"),
        "resource_name": ("resource.name", "computer_name"),
        "domain_netbios_name": ("resource.domain_netbios_name", "domain_name"),
        "branch_office_id": ("branchofficedetails.branch_office_id",),
        "os_language": ("oslanguage.i18n",),
        "agent_installation_status": ("installation_status",),
        "reboot_required": ("resourcetorebootdetails.reboot_req_status", "reboot_req_status"),
        "agent_last_bootup_time": ("last_bootup_time",),
        "last_successful_scan_time": ("last_successful_scan",),
    }

    resource_id: int
    resource_name: OptStr = None
    domain_netbios_name: OptStr = None
    branch_office_id: OptInt = None
    branch_office_name: OptStr = None
    customer_id: OptInt = None
    customer_name: OptStr = None
    ip_address: OptStr = None
    mac_address: OptStr = None
    os_name: OptStr = None
    os_platform: PlatformCode = None
    os_platform_name: OptStr = None
    os_language: OptStr = None
    service_pack: OptStr = None
    agent_version: OptStr = None
    agent_installed_on: EpochMs = None
    agent_installation_status: AgentStatusCode = None
    agent_last_contact_time: EpochMs = None
    agent_last_bootup_time: EpochMs = None
    computer_live_status: LiveStatusCode = None
    resource_health_status: HealthCode = None
    scan_status: ScanStatusCode = None
    last_scan_time: EpochMs = None
    last_successful_scan_time: EpochMs = None
    last_patched_time: EpochMs = None
    missing_ms_patches: OptInt = None
    missing_tp_patches: OptInt = None
    missing_driver_patches: OptInt = None
    missing_bios_patches: OptInt = None
    installed_ms_patches: OptInt = None
    installed_tp_patches: OptInt = None
    installed_driver_patches: OptInt = None
    installed_bios_patches: OptInt = None
    critical_patch_count: OptInt = None
    important_patch_count: OptInt = None
    moderate_patch_count: OptInt = None
    low_patch_count: OptInt = None
    reboot_required: OptBool = None
    description: OptStr = None


@register
class AllSystems(Endpoint):
    """``/api/1.4/patch/allsystems``: every managed system with its patch counts."""

    name = "allsystems"
    path = "patch/allsystems"
    record_key = "allsystems"
    model = SystemRecord
    entity = "system"
    entity_columns = SYSTEM_COLUMNS


@register
class ScanDetails(Endpoint):
    """``/api/1.4/patch/scandetails``: scan and agent state per system.

    Its rows are *partial* system rows (only :data:`SCAN_COLUMNS`); the extractor combines
    them with the allsystems row of the same ``resource_id``.
    """

    name = "scandetails"
    path = "patch/scandetails"
    record_key = "scandetails"
    model = SystemRecord
    entity = "system"
    entity_columns = SCAN_COLUMNS
    complements = "allsystems"
