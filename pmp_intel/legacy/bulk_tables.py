"""How each bulk legacy table (systems, patches) is read as observations (maia-legacy.md §1).

* family A ``all_patches`` / ``installed_patches`` / ``missing_patches``: the ``patch_id``
  column holds ``update_id`` (or, when the record had none, a rowid SQLite made up), so the
  key and ``update_id`` come from ``raw_data`` only;
* family A ``supported_patches``: ``patch_id`` from ``raw_data``, else the fixed (v4) key
  column; the buggy v1 table's key column is ``update_id``;
* snapshot-family ``patches`` / ``supported_patches`` and ``systems``: the columns are the
  record (no JSON); the unified schema's ``patches`` and ``systems`` likewise, with their
  ``raw_data`` read first;
* family A ``all_systems`` / ``scan_details`` and the system-report extractor's
  ``systems``: ``raw_data`` first, then the flattened columns (``computer_name`` is often
  NULL there, ``resource_name`` lives in ``raw_data``).

Columns are referred to as ``{c:name}`` (:func:`~pmp_intel.legacy.sql_values.columns_of`):
a shape requires only some of its columns, and one the table lacks reads as NULL.
"""

from __future__ import annotations

from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy.observations import Reading


def _local(column: str) -> str:
    return f"legacy_ms({{c:{column}}}, 1)"


def _utc(column: str) -> str:
    return f"legacy_ms({{c:{column}}}, 0)"


#: A snapshot-keyed row without a time of its own: its run's start.
_RUN_START = (
    "(SELECT started_ms FROM legacy_runs AS r WHERE r.file = {file} "
    f"AND r.run = {sv.integer('{c:snapshot_id}')})"
)


_NOT_JSON_PATCH = "raw_data is not valid JSON (the patch_id column holds update_id)"
_NO_PATCH_ID = "no patch_id in raw_data (the patch_id column holds update_id)"

#: Shape → how to read it as observations of a patch.
PATCH_READINGS: dict[str, Reading] = {
    **{
        key: Reading(
            flat=(
                "bulletin_id",
                "update_name",
                "platform",
                "patch_released_time",
                "patch_size",
                "patch_noreboot",
            ),
            key=(("raw", "patch_id"),),
            time=_local("extracted_at"),
            ignore=frozenset({"patch_id"}),
            skips=(("NOT {ok}", _NOT_JSON_PATCH), ("{key} IS NULL", _NO_PATCH_ID)),
        )
        for key in ("A.all_patches", "A.installed_patches", "A.missing_patches")
    },
    "A.supported_patches.v4": Reading(
        flat=("update_id", "bulletin_id", "patch_updated_time", "is_superceded"),
        key=(("raw", "patch_id"), ("column", "patch_id")),
        time=_local("extracted_at"),
        ignore=frozenset({"patch_id"}),
        skips=(
            (
                "{key} IS NULL",
                "no patch_id (raw_data unreadable or without it; the key column holds update_id)",
            ),
        ),
    ),
    "A.supported_patches.v1": Reading(
        flat=("update_id", "bulletin_id", "patch_updated_time", "is_superceded"),
        key=(("raw", "patch_id"),),
        time=_local("extracted_at"),
        ignore=frozenset({"patch_id"}),
        skips=(
            (
                "{key} IS NULL",
                "no patch_id (raw_data unreadable or without it; the key column holds update_id)",
            ),
        ),
    ),
    **{
        key: Reading(
            raw=None,
            columns_are_record=True,
            key=(("column", "pmp_patch_id"),),
            time=_utc("extracted_at"),
            ignore=frozenset(
                {
                    "patch_id",
                    "supported_patch_id",
                    "snapshot_id",
                    "pmp_patch_id",
                    "extracted_at",
                    "reboot_required",
                    "cve_ids",
                }
            ),
            fallbacks={
                "patch_noreboot": (
                    f"CASE {sv.boolean('{c:reboot_required}')} WHEN 1 THEN 0 WHEN 0 THEN 1 END",
                )
            },
            skips=(("{key} IS NULL", "pmp_patch_id is not a numeric PMP patch id"),),
        )
        for key in ("B.patches", "B.supported_patches")
    },
    "U.patches": Reading(
        columns_are_record=True,
        key=(("column", "pmp_patch_id"),),
        time=_utc("extracted_at"),
        ignore=frozenset({"patch_id", "snapshot_id", "pmp_patch_id", "extracted_at", "raw_data"}),
        skips=(("{key} IS NULL", "pmp_patch_id is not a numeric PMP patch id"),),
    ),
}

#: Shape → how to read it as observations of a system. ``{runs}`` in a time is the scratch
#: table of legacy runs (file, run id, start in epoch ms).
SYSTEM_READINGS: dict[str, Reading] = {
    **{
        key: Reading(
            flat=(
                "resource_id",
                "resource_health_status",
                "os_platform_name",
                "branch_office_id",
                "last_patched_time",
                "total_driver_patches",
                "missing_bios_patches",
                "agent_installed_on",
            ),
            key=(("raw", "resource_id"), ("column", "resource_id")),
            time=_local("extracted_at"),
            ignore=frozenset({"resource_id"}),
            skips=(
                (
                    "NOT {ok} AND has_raw AND " + sv.integer("key_column") + " IS NULL",
                    "raw_data is not valid JSON and no resource_id column",
                ),
                ("{key} IS NULL", "no resource_id"),
            ),
        )
        for key in ("A.all_systems", "A.scan_details")
    },
    "R.systems": Reading(
        flat=(
            "resource_id",
            "computer_name",
            "domain_name",
            "os_name",
            "ip_address",
            "agent_version",
            "last_contact_time",
        ),
        key=(("raw", "resource_id"), ("column", "resource_id")),
        time=_local("extracted_at"),
        ignore=frozenset({"resource_id"}),
        skips=(("{key} IS NULL", "no resource_id"),),
    ),
    "B.systems": Reading(
        raw=None,
        columns_are_record=True,
        key=(("column", "resource_id"),),
        time=(
            "coalesce(legacy_ms(coalesce(nullif({c:updated_at}, ''), {c:created_at}), 0), "
            f"{_RUN_START})"
        ),
        ignore=frozenset({"system_id", "snapshot_id", "created_at", "updated_at", "resource_id"}),
        skips=(("{key} IS NULL", "no resource_id"),),
    ),
    "U.systems": Reading(
        columns_are_record=True,
        key=(("raw", "resource_id"), ("column", "resource_id")),
        time=f"coalesce({_utc('extracted_at')}, {_RUN_START})",
        ignore=frozenset({"system_id", "snapshot_id", "extracted_at", "resource_id", "raw_data"}),
        skips=(("{key} IS NULL", "no resource_id"),),
    ),
}
