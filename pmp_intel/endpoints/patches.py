"""Patches: ``allpatches``, ``supportedpatches``, ``installedpatches``, ``missingpatches``
(pmp-api.md §6b, §6m)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pmp_intel.endpoints.base import Endpoint, PMPRecord
from pmp_intel.endpoints.coerce import (
    ApprovalCode,
    EpochMs,
    OptBool,
    OptInt,
    OptStr,
    PlatformCode,
    SeverityCode,
)
from pmp_intel.endpoints.registry import register

#: Columns of ``PatchFields``, minus ``extra``.
PATCH_COLUMNS = frozenset({
    "patch_id", "update_id", "bulletin_id", "patch_name", "patch_description", "update_name",
    "patch_type", "vendor_name", "platform", "platform_name", "severity", "approval_status",
    "download_status", "patch_noreboot", "uninstall_supported", "patch_size",
    "patch_released_time", "patch_updated_time", "patch_supported_time", "superseded_by",
    "is_superseded",
})

#: What supportedpatches sends (its rows are partial patch rows).
SUPPORTED_COLUMNS = frozenset({
    "patch_id", "update_id", "bulletin_id", "patch_name", "patch_description", "vendor_name",
    "platform", "platform_name", "severity", "patch_released_time", "patch_updated_time",
    "is_superseded",
})


class PatchRecord(PMPRecord):
    """One patch (allpatches and its siblings). Keyed by ``patch_id``, never ``update_id``."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "patch_id": ("patch.patchid", "patchid"),
        "severity": ("severity_name", "pmseverity.name"),
        "approval_status": ("status_id", "approvestatus"),
        "uninstall_supported": ("patch_uninstall_status",),
        "superseded_by": ("superceded_by",),
        "is_superseded": ("is_superceded",),
    }

    patch_id: int
    update_id: OptInt = None
    bulletin_id: OptStr = None
    patch_name: OptStr = None
    patch_description: OptStr = None
    update_name: OptStr = None
    patch_type: OptInt = None
    vendor_name: OptStr = None
    platform: PlatformCode = None
    platform_name: OptStr = None
    severity: SeverityCode = None
    approval_status: ApprovalCode = None
    download_status: OptInt = None
    patch_noreboot: OptInt = None
    uninstall_supported: OptBool = None
    patch_size: OptInt = None
    patch_released_time: EpochMs = None
    patch_updated_time: EpochMs = None
    patch_supported_time: EpochMs = None
    superseded_by: OptStr = None
    is_superseded: OptBool = None
    #: Systems with the patch installed / missing / failed (allpatches, missingpatches).
    installed: OptInt = None
    missing: OptInt = None
    failed: OptInt = None


@register
class AllPatches(Endpoint):
    """``/api/1.4/patch/allpatches``: patches applicable in the estate."""

    name = "allpatches"
    path = "patch/allpatches"
    record_key = "allpatches"
    model = PatchRecord
    entity = "patch"
    entity_columns = PATCH_COLUMNS


@register
class SupportedPatches(Endpoint):
    """``/api/1.4/patch/supportedpatches``: the whole vendor catalogue (~365,000 records on
    a real server, hours of requests under a rate limit): off by default."""

    name = "supportedpatches"
    path = "patch/supportedpatches"
    record_key = "supportedpatches"
    model = PatchRecord
    default_enabled = False
    entity = "patch"
    entity_columns = SUPPORTED_COLUMNS
    complements = "allpatches"
    creates_entities = False


@register
class InstalledPatches(Endpoint):
    """``/api/1.4/patch/installedpatches``: per-patch aggregates (no entity rows)."""

    name = "installedpatches"
    path = "patch/installedpatches"
    record_key = "installedpatches"
    model = PatchRecord


@register
class MissingPatches(Endpoint):
    """``/api/1.4/patch/missingpatches``: per-patch aggregates (no entity rows)."""

    name = "missingpatches"
    path = "patch/missingpatches"
    record_key = "missingpatches"
    model = PatchRecord
