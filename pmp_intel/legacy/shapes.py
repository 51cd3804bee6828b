"""The table shapes the legacy Maia tools wrote (maia-legacy.md §1), recognised by columns.

Four families can meet in one file, because every writer used ``CREATE TABLE IF NOT EXISTS``
and whichever ran first fixed a table's shape:

* ``A`` — raw API JSON keyed by ``extraction_id`` (``pmp_config.db``'s live family);
* ``B`` — the snapshot family of the ``.sql`` schema files (``pmp_config.db`` or
  ``pmp_resilient.db``, the latter with checkpoints and gaps);
* ``C`` — the DCAPI tables;
* ``R`` — the system-report extractor's tables (``pmp_systemreports.db``);
* ``U`` — the consolidation sprint's unified schema (§3.1): its script ran on pmp_config.db
  too (the unified extractor's default database), and on the live family-A file it stopped
  at its first index, leaving empty unified tables behind. Its snapshot, metric, compliance
  and schema-version tables are family B's.

Eight names collide between A and B (``systems``, ``supported_patches``…), and the unified
schema reuses some of them. A table is matched to the shape whose *required* columns it has
and whose *known* columns cover all of its columns; a table with a known name and any other
set of columns is an error when it holds rows (:mod:`~pmp_intel.legacy.files`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    """One known shape of one legacy table."""

    key: str
    table: str
    family: str
    required: frozenset[str]
    known: frozenset[str]
    #: What the rows hold, for the report.
    description: str

    def matches(self, columns: frozenset[str]) -> bool:
        """True when a table with ``columns`` has this shape."""
        return self.required <= columns and columns <= self.known


def _shape(
    key: str, table: str, family: str, required: str, optional: str, description: str
) -> Shape:
    req = frozenset(required.split())
    return Shape(key, table, family, req, req | frozenset(optional.split()), description)


_FAMILY_A_PATCH_COLUMNS = (
    "extraction_id bulletin_id update_name platform patch_released_time patch_noreboot extracted_at"
)

SHAPES: tuple[Shape, ...] = (
    # ---- family A: raw JSON per endpoint, keyed by extraction_id -----------------------
    _shape(
        "A.api_extraction_runs",
        "api_extraction_runs",
        "A",
        "extraction_id started_at status",
        "completed_at endpoints_extracted total_records errors",
        "extraction runs",
    ),
    _shape(
        "A.patch_summary",
        "patch_summary",
        "A",
        "summary_data",
        "id extraction_id extracted_at",
        "/patch/summary per run",
    ),
    _shape(
        "A.all_patches",
        "all_patches",
        "A",
        "patch_id raw_data",
        "patch_size installed id " + _FAMILY_A_PATCH_COLUMNS,
        "allpatches (patch_id column holds update_id)",
    ),
    _shape(
        "A.supported_patches.v4",
        "supported_patches",
        "A",
        "patch_id extraction_id raw_data",
        "update_id bulletin_id patch_lang patch_updated_time is_superceded extracted_at",
        "supportedpatches (fixed key)",
    ),
    _shape(
        "A.supported_patches.v1",
        "supported_patches",
        "A",
        "update_id extraction_id raw_data",
        "bulletin_id patch_lang patch_updated_time is_superceded extracted_at",
        "supportedpatches (update_id primary-key bug)",
    ),
    _shape(
        "A.all_systems",
        "all_systems",
        "A",
        "extraction_id raw_data",
        "id resource_id resource_health_status os_platform_name branch_office_id "
        "last_patched_time total_driver_patches missing_bios_patches extracted_at",
        "allsystems",
    ),
    _shape(
        "A.deployment_policies",
        "deployment_policies",
        "A",
        "template_id extraction_id",
        "template_name creation_time modified_time is_template_alive set_as_default user_id "
        "raw_data extracted_at",
        "deploymentpolicies",
    ),
    _shape(
        "A.health_policy",
        "health_policy",
        "A",
        "policy_data",
        "id extraction_id extracted_at",
        "healthpolicy",
    ),
    _shape(
        "A.view_configurations",
        "view_configurations",
        "A",
        "config_id extraction_id",
        "collection_id total_target_count os_platform_name collection_platform_id raw_data "
        "extracted_at",
        "viewconfig",
    ),
    _shape(
        "A.view_configurations.v4",
        "view_configurations",
        "A",
        "config_id view_name",
        "extraction_id view_desc is_default raw_data extracted_at",
        "viewconfig (archived config extractor v4)",
    ),
    _shape(
        "A.approval_settings",
        "approval_settings",
        "A",
        "settings_data",
        "id extraction_id extracted_at",
        "approvalsettings",
    ),
    _shape(
        "A.scan_details",
        "scan_details",
        "A",
        "resource_id raw_data",
        "extraction_id resource_health_status os_platform_name branch_office_id "
        "agent_installed_on extracted_at",
        "scandetails",
    ),
    _shape(
        "A.installed_patches",
        "installed_patches",
        "A",
        "patch_id raw_data",
        _FAMILY_A_PATCH_COLUMNS,
        "installedpatches (patch_id column holds update_id)",
    ),
    _shape(
        "A.missing_patches",
        "missing_patches",
        "A",
        "patch_id raw_data",
        _FAMILY_A_PATCH_COLUMNS,
        "missingpatches (patch_id column holds update_id)",
    ),
    _shape(
        "A.som_computers",
        "som_computers",
        "A",
        "resource_id raw_data",
        "extraction_id os_platform_name agent_installed_on extracted_at",
        "som/computers",
    ),
    _shape(
        "A.som_summary",
        "som_summary",
        "A",
        "extraction_id summary_data",
        "extracted_at",
        "som/summary per run",
    ),
    # ---- family B: snapshot-keyed .sql schemas ----------------------------------------
    _shape(
        "B.snapshots",
        "snapshots",
        "B",
        "snapshot_id timestamp",
        "api_version extraction_duration_ms status error_message",
        "snapshots",
    ),
    _shape(
        "B.patch_metrics",
        "patch_metrics",
        "B",
        "snapshot_id installed_patches",
        "metric_id applicable_patches new_patches missing_patches timestamp",
        "summary patch counts",
    ),
    _shape(
        "B.severity_metrics",
        "severity_metrics",
        "B",
        "snapshot_id critical_count",
        "metric_id important_count moderate_count low_count unrated_count total_count timestamp",
        "summary missing-by-severity counts",
    ),
    _shape(
        "B.system_health_metrics",
        "system_health_metrics",
        "B",
        "snapshot_id total_systems",
        "metric_id healthy_systems moderately_vulnerable_systems highly_vulnerable_systems "
        "health_unknown_systems scanned_systems unscanned_system_count scan_success_count "
        "scan_failure_count number_of_apd_tasks timestamp",
        "summary health, scan and APD counts",
    ),
    _shape(
        "B.vulnerability_db_metrics",
        "vulnerability_db_metrics",
        "B",
        "snapshot_id last_db_update_status",
        "metric_id last_db_update_time is_auto_db_update_disabled db_update_in_progress timestamp",
        "vulnerability database status",
    ),
    _shape(
        "B.compliance_checks",
        "compliance_checks",
        "B",
        "snapshot_id check_name passed",
        "check_id check_category severity details threshold_value actual_value timestamp",
        "the old tool's compliance rules",
    ),
    _shape(
        "B.schema_version",
        "schema_version",
        "B",
        "version",
        "applied_at description",
        "schema bookkeeping",
    ),
    _shape(
        "B.systems",
        "systems",
        "B",
        "snapshot_id resource_id",
        "system_id resource_id_string resource_name ip_address mac_address domain_netbios_name "
        "branch_office_id branch_office_name customer_id os_name os_platform os_platform_name "
        "os_platform_id osflavor_id os_language os_language_abbr service_pack agent_version "
        "agent_installed_on agent_installed_dir agent_last_contact_time agent_last_bootup_time "
        "agent_last_ds_contact_time agent_logged_on_users computer_live_status "
        "computer_status_update_time installation_status last_scan_time last_successful_scan "
        "last_sync_time scan_status patch_scan_error_code scan_remarks scan_remarks_args "
        "resource_health_status patch_status_image patch_status_label status_label description "
        "location owner owner_email_id search_tag error_kb_url "
        "branchmemberresourcerel_resource_id branchofficedetails_branch_office_id "
        "patchclientscanerror_resource_id patchmgmtosinfo_resource_id "
        "pmreshealthstatus_resource_id oslanguage_i18n oslanguage_languageid created_at "
        "updated_at",
        "scandetails systems per snapshot",
    ),
    _shape(
        "B.deployment_policies",
        "deployment_policies",
        "B",
        "snapshot_id settings_json",
        "policy_id config_id config_name config_description platform_name config_status "
        "deployment_type schedule_type execution_time target_type target_count created_time "
        "modified_time created_by modified_by extracted_at",
        "deploymentpolicies per snapshot",
    ),
    _shape(
        "B.health_policy",
        "health_policy",
        "B",
        "snapshot_id settings_json",
        "health_policy_id healthy_threshold vulnerable_threshold highly_vulnerable_threshold "
        "critical_weight important_weight moderate_weight low_weight extracted_at",
        "healthpolicy per snapshot",
    ),
    _shape(
        "B.approval_settings",
        "approval_settings",
        "B",
        "snapshot_id settings_json",
        "approval_settings_id approval_mode auto_approval_enabled auto_approve_critical "
        "auto_approve_security approval_delay_days extracted_at",
        "approvalsettings per snapshot",
    ),
    _shape(
        "B.deployment_configs",
        "deployment_configs",
        "B",
        "snapshot_id deployment_config_id",
        "config_id config_name config_type config_status execution_status platform_name "
        "target_systems_count patch_count scheduled_time executed_time success_count "
        "failure_count pending_count settings_json extracted_at",
        "deployment configurations per snapshot",
    ),
    _shape(
        "B.patches",
        "patches",
        "B",
        "snapshot_id pmp_patch_id",
        "patch_id patch_name bulletin_id kb_number vendor_name product_name platform_name "
        "update_type severity severity_label cve_ids patch_status approval_status "
        "download_status reboot_required uninstall_supported release_date supported_date "
        "approved_date patch_size_bytes patch_description extracted_at",
        "patches per snapshot",
    ),
    _shape(
        "B.patch_system_mapping",
        "patch_system_mapping",
        "B",
        "snapshot_id pmp_patch_id resource_id",
        "mapping_id patch_status installation_status installed_time installation_error_code "
        "resource_name ip_address branch_office_name extracted_at",
        "patch × system states per snapshot",
    ),
    _shape(
        "B.supported_patches",
        "supported_patches",
        "B",
        "snapshot_id pmp_patch_id",
        "supported_patch_id patch_name bulletin_id vendor_name product_name platform_name "
        "severity reboot_required approval_status release_date extracted_at",
        "supported patches per snapshot",
    ),
    _shape(
        "B.extraction_checkpoints",
        "extraction_checkpoints",
        "B",
        "snapshot_id last_page",
        "checkpoint_id systems_extracted coverage_pct created_at updated_at",
        "resilient extractor checkpoints",
    ),
    _shape(
        "B.extraction_gaps",
        "extraction_gaps",
        "B",
        "snapshot_id page_num error_type",
        "gap_id error_message response_sample attempts created_at",
        "resilient extractor gaps",
    ),
    # ---- family C: DCAPI ---------------------------------------------------------------
    _shape(
        "C.dcapi_extraction_checkpoints",
        "dcapi_extraction_checkpoints",
        "C",
        "snapshot_id last_page",
        "checkpoint_id systems_extracted patches_extracted coverage_pct created_at updated_at",
        "DCAPI checkpoints",
    ),
    _shape(
        "C.dcapi_extraction_gaps",
        "dcapi_extraction_gaps",
        "C",
        "snapshot_id page_num error_type",
        "gap_id error_message response_sample attempts created_at",
        "DCAPI gaps",
    ),
    _shape(
        "C.dcapi_patch_mappings",
        "dcapi_patch_mappings",
        "C",
        "resource_id patch_id",
        "mapping_id patchname severity patch_status bulletinid vendor_name installed_time "
        "extracted_at",
        "DCAPI system × patch states",
    ),
    # ---- family U: the unified schema of the consolidation sprint (§3.1) ---------------
    _shape(
        "U.systems",
        "systems",
        "U",
        "snapshot_id resource_id",
        "system_id resource_name computer_name ip_address mac_address domain_name "
        "branch_office_id branch_office_name customer_id os_name os_platform_name os_platform "
        "service_pack agent_version agent_installed_on agent_last_contact_time "
        "last_contact_time resource_health_status computer_live_status scan_status "
        "total_driver_patches missing_bios_patches last_patched_time last_scan_time "
        "last_successful_scan raw_data extracted_at",
        "systems per snapshot (unified schema)",
    ),
    _shape(
        "U.patches",
        "patches",
        "U",
        "snapshot_id pmp_patch_id",
        "patch_id patch_name update_name bulletin_id kb_number vendor_name product_name "
        "platform platform_name update_type patch_lang severity severity_label patch_status "
        "approval_status is_superceded patch_noreboot patch_size installed "
        "patch_released_time patch_updated_time raw_data extracted_at",
        "patches per snapshot (unified schema)",
    ),
    _shape(
        "U.patch_system_mapping",
        "patch_system_mapping",
        "U",
        "snapshot_id pmp_patch_id resource_id",
        "mapping_id patch_status approval_status patch_deployed patch_name bulletin_id "
        "severity is_reboot_required raw_data extracted_at",
        "patch × system states per snapshot (unified schema)",
    ),
    _shape(
        "U.vulnerabilities",
        "vulnerabilities",
        "U",
        "snapshot_id cve_id",
        "vulnerability_id cve_year cvss_score cvss_severity pmp_patch_ids description "
        "published_date extracted_at",
        "/patch/vulnerabilities per snapshot (unified schema)",
    ),
    _shape(
        "U.deployment_policies",
        "deployment_policies",
        "U",
        "snapshot_id template_id",
        "policy_id template_name creation_time modified_time is_template_alive set_as_default "
        "user_id raw_data extracted_at",
        "deploymentpolicies per snapshot (unified schema)",
    ),
    _shape(
        "U.deployment_tasks",
        "deployment_tasks",
        "U",
        "snapshot_id apd_task_id",
        "task_id task_name task_status execution_status platform_name target_systems_count "
        "scheduled_time executed_time success_count failure_count pending_count extracted_at",
        "/patch/deploymenttasks per snapshot (unified schema)",
    ),
    # ---- family R: pmp_systemreports.db ------------------------------------------------
    _shape(
        "R.extraction_runs",
        "extraction_runs",
        "R",
        "extraction_id started_at status",
        "completed_at systems_found systems_processed total_patches errors",
        "system-report runs",
    ),
    _shape(
        "R.systems",
        "systems",
        "R",
        "resource_id extraction_id",
        "computer_name domain_name os_name ip_address agent_version last_contact_time raw_data "
        "extracted_at",
        "allsystems as seen by the system-report extractor",
    ),
    _shape(
        "R.system_reports",
        "system_reports",
        "R",
        "resource_id patch_id",
        "id extraction_id patch_name bulletin_id severity patch_status approval_status "
        "is_reboot_required patch_deployed raw_data extracted_at",
        "per-system patch reports (duplicated by re-runs)",
    ),
)

SHAPES_BY_TABLE: dict[str, tuple[Shape, ...]] = {}
for _s in SHAPES:
    SHAPES_BY_TABLE[_s.table] = (*SHAPES_BY_TABLE.get(_s.table, ()), _s)

#: SQLite's own tables: never data.
INTERNAL_TABLES = frozenset({"sqlite_sequence", "sqlite_stat1", "sqlite_stat4"})

#: The file names the old tools used. The last two were never written by any code and are
#: expected to be empty ("2 empty databases … wasted schema").
KNOWN_FILES = (
    "pmp_config.db",
    "pmp_resilient.db",
    "pmp_systemreports.db",
    "pmp_complete_intelligence.db",
    "pmp_patch_systems.db",
)
EXPECTED_EMPTY_FILES = frozenset({"pmp_complete_intelligence.db", "pmp_patch_systems.db"})


def match_shape(table: str, columns: frozenset[str]) -> Shape | None:
    """The shape of ``table`` with ``columns``; None if the name is unknown.

    Raises ``LookupError`` when the name is known but no shape fits the columns."""
    candidates = SHAPES_BY_TABLE.get(table)
    if not candidates:
        return None
    for shape in candidates:
        if shape.matches(columns):
            return shape
    raise LookupError(table)
