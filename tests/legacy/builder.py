"""factory-boy builder of legacy Maia SQLite files with the real shapes and the real mess.

The DDL below is written from maia-legacy.md §1 (not from ``pmp_intel.legacy.shapes``), so the
importer's column detection is tested against an independent reading of the spec. The mess:

* family A: local-time ISO ``extracted_at``; ``all_patches`` / ``installed_patches`` /
  ``missing_patches`` keyed by ``update_id`` (which repeats 0-9 or is absent, so SQLite fills
  the key with a rowid and rows pile up across runs); some raw records without ``patch_id``;
  some ``all_systems`` records without ``resource_name``; ``'--'`` sentinels; supported
  patches with word severities; one run left ``running``; invalid JSON in a few rows;
* family B (``pmp_resilient.db`` and the snapshot-family ``pmp_config.db``): UTC text,
  only 7 system columns written with raw ``'--'``, checkpoints and gaps;
* ``pmp_systemreports.db``: ``system_reports`` duplicated by re-runs (no uniqueness),
  ``computer_name`` often NULL, reports without an install status.

``build_legacy_dir(path, sizes)`` writes the files and returns the ground truth
(:class:`LegacyTruth`): the names, organisations, severities and patch ids that must come
through. ``FULL`` has the real sizes of maia-legacy.md §1.1d/§1.3/§6.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import factory
import factory.fuzzy
import factory.random

# ----------------------------------------------------------------------------- DDL (§1)

FAMILY_A = """
CREATE TABLE api_extraction_runs (
  extraction_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, completed_at TEXT,
  status TEXT NOT NULL, endpoints_extracted INTEGER DEFAULT 0, total_records INTEGER DEFAULT 0,
  errors TEXT);
CREATE TABLE patch_summary (id INTEGER PRIMARY KEY AUTOINCREMENT, extraction_id INTEGER,
  summary_data TEXT NOT NULL, extracted_at TEXT NOT NULL);
CREATE TABLE all_patches (patch_id INTEGER PRIMARY KEY, extraction_id INTEGER, bulletin_id TEXT,
  update_name TEXT, platform TEXT, patch_released_time INTEGER, patch_size INTEGER,
  patch_noreboot INTEGER, installed INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE supported_patches (patch_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  update_id INTEGER, bulletin_id TEXT, patch_lang TEXT, patch_updated_time INTEGER,
  is_superceded INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE all_systems (resource_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  resource_health_status INTEGER, os_platform_name TEXT, branch_office_id INTEGER,
  last_patched_time INTEGER, total_driver_patches INTEGER, missing_bios_patches INTEGER,
  raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE deployment_policies (template_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  template_name TEXT, creation_time INTEGER, modified_time INTEGER, is_template_alive INTEGER,
  set_as_default INTEGER, user_id INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE health_policy (id INTEGER PRIMARY KEY AUTOINCREMENT, extraction_id INTEGER,
  policy_data TEXT NOT NULL, extracted_at TEXT NOT NULL);
CREATE TABLE view_configurations (config_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  collection_id INTEGER, total_target_count INTEGER, os_platform_name TEXT,
  collection_platform_id INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE approval_settings (id INTEGER PRIMARY KEY AUTOINCREMENT, extraction_id INTEGER,
  settings_data TEXT NOT NULL, extracted_at TEXT NOT NULL);
CREATE TABLE scan_details (resource_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  resource_health_status INTEGER, os_platform_name TEXT, branch_office_id INTEGER,
  agent_installed_on INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE installed_patches (patch_id INTEGER, extraction_id INTEGER, bulletin_id TEXT,
  update_name TEXT, platform TEXT, patch_released_time INTEGER, patch_noreboot INTEGER,
  raw_data TEXT, extracted_at TEXT NOT NULL, PRIMARY KEY (patch_id, extraction_id));
CREATE TABLE missing_patches (patch_id INTEGER, extraction_id INTEGER, bulletin_id TEXT,
  update_name TEXT, platform TEXT, patch_released_time INTEGER, patch_noreboot INTEGER,
  raw_data TEXT, extracted_at TEXT NOT NULL, PRIMARY KEY (patch_id, extraction_id));
CREATE TABLE som_computers (resource_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  os_platform_name TEXT, agent_installed_on INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE som_summary (extraction_id INTEGER PRIMARY KEY, summary_data TEXT,
  extracted_at TEXT NOT NULL);
"""

FAMILY_C = """
CREATE TABLE dcapi_extraction_checkpoints (checkpoint_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, last_page INTEGER, systems_extracted INTEGER,
  patches_extracted INTEGER, coverage_pct REAL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(snapshot_id));
CREATE TABLE dcapi_extraction_gaps (gap_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, page_num INTEGER, error_type TEXT NOT NULL, error_message TEXT,
  response_sample TEXT, attempts INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  UNIQUE(snapshot_id, page_num));
CREATE TABLE dcapi_patch_mappings (mapping_id INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_id TEXT NOT NULL, patch_id TEXT NOT NULL, patchname TEXT, severity TEXT,
  patch_status TEXT, bulletinid TEXT, vendor_name TEXT, installed_time TEXT,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(resource_id, patch_id));
"""

FAMILY_B_CORE = """
CREATE TABLE snapshots (snapshot_id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, api_version TEXT DEFAULT '1.4',
  extraction_duration_ms INTEGER CHECK (extraction_duration_ms >= 0),
  status TEXT CHECK (status IN ('success','partial','failed')) DEFAULT 'success',
  error_message TEXT);
CREATE TABLE patch_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(snapshot_id) ON DELETE CASCADE,
  installed_patches INTEGER DEFAULT 0, applicable_patches INTEGER DEFAULT 0,
  new_patches INTEGER DEFAULT 0, missing_patches INTEGER DEFAULT 0,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE severity_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, critical_count INTEGER DEFAULT 0, important_count INTEGER DEFAULT 0,
  moderate_count INTEGER DEFAULT 0, low_count INTEGER DEFAULT 0, unrated_count INTEGER DEFAULT 0,
  total_count INTEGER DEFAULT 0, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE system_health_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, total_systems INTEGER DEFAULT 0, healthy_systems INTEGER DEFAULT 0,
  moderately_vulnerable_systems INTEGER DEFAULT 0, highly_vulnerable_systems INTEGER DEFAULT 0,
  health_unknown_systems INTEGER DEFAULT 0, scanned_systems INTEGER DEFAULT 0,
  unscanned_system_count INTEGER DEFAULT 0, scan_success_count INTEGER DEFAULT 0,
  scan_failure_count INTEGER DEFAULT 0, number_of_apd_tasks INTEGER DEFAULT 0,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE vulnerability_db_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, last_db_update_status TEXT, last_db_update_time INTEGER,
  is_auto_db_update_disabled BOOLEAN DEFAULT 0, db_update_in_progress BOOLEAN DEFAULT 0,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE compliance_checks (check_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, check_name TEXT NOT NULL,
  check_category TEXT NOT NULL CHECK (check_category IN ('essential_eight','cis','custom')),
  passed BOOLEAN NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('CRITICAL','HIGH','MEDIUM','LOW')), details TEXT,
  threshold_value REAL, actual_value REAL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE schema_version (version INTEGER PRIMARY KEY,
  applied_at DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT);
INSERT INTO schema_version (version, description) VALUES (1, 'Initial PMP schema');
CREATE VIEW latest_snapshot AS SELECT * FROM snapshots ORDER BY timestamp DESC LIMIT 1;
"""

ENHANCED_SYSTEM_COLUMNS = [
    "resource_id_string",
    "resource_name",
    "ip_address",
    "mac_address",
    "domain_netbios_name",
    "branch_office_id",
    "branch_office_name",
    "customer_id",
    "os_name",
    "os_platform",
    "os_platform_name",
    "os_platform_id",
    "osflavor_id",
    "os_language",
    "os_language_abbr",
    "service_pack",
    "agent_version",
    "agent_installed_on",
    "agent_installed_dir",
    "agent_last_contact_time",
    "agent_last_bootup_time",
    "agent_last_ds_contact_time",
    "agent_logged_on_users",
    "computer_live_status",
    "computer_status_update_time",
    "installation_status",
    "last_scan_time",
    "last_successful_scan",
    "last_sync_time",
    "scan_status",
    "patch_scan_error_code",
    "scan_remarks",
    "scan_remarks_args",
    "resource_health_status",
    "patch_status_image",
    "patch_status_label",
    "status_label",
    "description",
    "location",
    "owner",
    "owner_email_id",
    "search_tag",
    "error_kb_url",
    "branchmemberresourcerel_resource_id",
    "branchofficedetails_branch_office_id",
    "patchclientscanerror_resource_id",
    "patchmgmtosinfo_resource_id",
    "pmreshealthstatus_resource_id",
    "oslanguage_i18n",
    "oslanguage_languageid",
]

FAMILY_B_ENHANCED = (
    "CREATE TABLE systems (system_id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "snapshot_id INTEGER NOT NULL, resource_id TEXT NOT NULL, "
    + ", ".join(
        f"{c} TEXT" if c != "resource_name" and c != "branch_office_name" else f"{c} TEXT NOT NULL"
        for c in ENHANCED_SYSTEM_COLUMNS
    )
    + ", created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "
    "updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(snapshot_id, resource_id));"
)

FAMILY_B_POLICY = """
CREATE TABLE deployment_policies (policy_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, config_id TEXT, config_name TEXT, config_description TEXT,
  platform_name TEXT, config_status TEXT, deployment_type TEXT, schedule_type TEXT,
  execution_time INTEGER, target_type TEXT, target_count INTEGER, settings_json TEXT,
  created_time INTEGER, modified_time INTEGER, created_by TEXT, modified_by TEXT,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX idx_policies_snapshot ON deployment_policies(snapshot_id);
CREATE TABLE health_policy (health_policy_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, healthy_threshold INTEGER, vulnerable_threshold INTEGER,
  highly_vulnerable_threshold INTEGER, critical_weight INTEGER, important_weight INTEGER,
  moderate_weight INTEGER, low_weight INTEGER, settings_json TEXT,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE approval_settings (approval_settings_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, approval_mode TEXT, auto_approval_enabled BOOLEAN,
  auto_approve_critical BOOLEAN, auto_approve_security BOOLEAN, approval_delay_days INTEGER,
  settings_json TEXT, extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE deployment_configs (config_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, deployment_config_id TEXT, config_name TEXT, config_type TEXT,
  config_status TEXT, execution_status TEXT, platform_name TEXT, target_systems_count INTEGER,
  patch_count INTEGER, scheduled_time INTEGER, executed_time INTEGER, success_count INTEGER,
  failure_count INTEGER, pending_count INTEGER, settings_json TEXT,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE patches (patch_id INTEGER PRIMARY KEY AUTOINCREMENT, snapshot_id INTEGER NOT NULL,
  pmp_patch_id TEXT NOT NULL, patch_name TEXT, bulletin_id TEXT, kb_number TEXT,
  vendor_name TEXT, product_name TEXT, platform_name TEXT, update_type TEXT, severity INTEGER,
  severity_label TEXT, cve_ids TEXT, patch_status INTEGER, approval_status INTEGER,
  download_status TEXT, reboot_required BOOLEAN, uninstall_supported BOOLEAN,
  release_date INTEGER, supported_date INTEGER, approved_date INTEGER, patch_size_bytes INTEGER,
  patch_description TEXT, extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  UNIQUE(snapshot_id, pmp_patch_id));
CREATE TABLE patch_system_mapping (mapping_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, pmp_patch_id TEXT NOT NULL, resource_id TEXT NOT NULL,
  patch_status INTEGER, installation_status TEXT, installed_time INTEGER,
  installation_error_code TEXT, resource_name TEXT, ip_address TEXT, branch_office_name TEXT,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  UNIQUE(snapshot_id, pmp_patch_id, resource_id));
CREATE TABLE supported_patches (supported_patch_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, pmp_patch_id TEXT NOT NULL, patch_name TEXT, bulletin_id TEXT,
  vendor_name TEXT, product_name TEXT, platform_name TEXT, severity INTEGER,
  reboot_required BOOLEAN, approval_status INTEGER, release_date INTEGER,
  extracted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(snapshot_id, pmp_patch_id));
"""

RESILIENT_EXTRA = """
CREATE TABLE extraction_checkpoints (checkpoint_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, last_page INTEGER NOT NULL, systems_extracted INTEGER NOT NULL,
  coverage_pct REAL NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(snapshot_id));
CREATE INDEX idx_checkpoints_snapshot ON extraction_checkpoints(snapshot_id);
CREATE TABLE extraction_gaps (gap_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, page_num INTEGER NOT NULL, error_type TEXT NOT NULL,
  error_message TEXT, response_sample TEXT, attempts INTEGER NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(snapshot_id, page_num));
CREATE INDEX idx_gaps_snapshot ON extraction_gaps(snapshot_id);
"""

SYSTEMREPORTS = """
CREATE TABLE extraction_runs (extraction_id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL, completed_at TEXT, status TEXT NOT NULL,
  systems_found INTEGER DEFAULT 0, systems_processed INTEGER DEFAULT 0,
  total_patches INTEGER DEFAULT 0, errors TEXT);
CREATE TABLE systems (resource_id INTEGER PRIMARY KEY, extraction_id INTEGER,
  computer_name TEXT, domain_name TEXT, os_name TEXT, ip_address TEXT, agent_version TEXT,
  last_contact_time INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL);
CREATE TABLE system_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, extraction_id INTEGER,
  resource_id INTEGER, patch_id INTEGER, patch_name TEXT, bulletin_id TEXT, severity INTEGER,
  patch_status INTEGER, approval_status INTEGER, is_reboot_required INTEGER,
  patch_deployed INTEGER, raw_data TEXT, extracted_at TEXT NOT NULL,
  FOREIGN KEY (resource_id) REFERENCES systems(resource_id));
CREATE INDEX idx_reports_resource ON system_reports(resource_id);
CREATE INDEX idx_reports_patch ON system_reports(patch_id);
"""

# ----------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class LegacySizes:
    """How many rows to write (rows, not distinct entities, where the two differ)."""

    systems: int = 60
    all_systems_rows: int = 58
    scan_details_rows: int = 55
    resilient_systems_rows: int = 80
    organisations: int = 6
    all_patches_rows: int = 90
    distinct_all_patches: int = 40
    supported_patches: int = 120
    missing_patches: int = 30
    installed_patches: int = 30
    system_reports: int = 700
    dcapi_mappings: int = 60
    policies: int = 12
    view_configs: int = 10
    runs: int = 3


#: The real sizes (maia-legacy.md §1.1d, §1.2, §1.3, §6).
FULL = LegacySizes(
    systems=3359,
    all_systems_rows=3332,
    scan_details_rows=3272,
    resilient_systems_rows=2799,
    organisations=32,
    all_patches_rows=12559,
    distinct_all_patches=5217,
    supported_patches=43182,
    missing_patches=1672,
    installed_patches=3505,
    system_reports=127928,
    dcapi_mappings=2000,
    policies=92,
    view_configs=225,
    runs=3,
)

#: A tenth of the real sizes: the scale test of the default run.
TENTH = LegacySizes(
    systems=336,
    all_systems_rows=333,
    scan_details_rows=327,
    resilient_systems_rows=280,
    organisations=12,
    all_patches_rows=1256,
    distinct_all_patches=522,
    supported_patches=4318,
    missing_patches=167,
    installed_patches=350,
    system_reports=12793,
    dcapi_mappings=200,
    policies=92,
    view_configs=225,
    runs=3,
)

# ----------------------------------------------------------------------------- truth


@dataclass
class SystemTruth:
    """One system as it really is."""

    resource_id: int
    name: str
    organisation: str
    branch_office_id: int
    os_name: str
    os_platform_name: str
    ip_address: str
    health: int


@dataclass
class PatchTruth:
    """One patch as it really is."""

    patch_id: int
    update_id: int
    bulletin_id: str
    name: str
    severity: int
    vendor: str
    released_ms: int


@dataclass
class LegacyTruth:
    """What the files encode, for assertions."""

    directory: Path
    zone: tzinfo
    systems: dict[int, SystemTruth] = field(default_factory=dict)
    patches: dict[int, PatchTruth] = field(default_factory=dict)
    #: (resource_id, patch_id) → (time, install status) of the newest observation.
    states: dict[tuple[int, int], tuple[datetime, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: Runs per file (snapshots the import must create).
    runs: int = 0
    #: Rows per (file, table).
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Patch ids whose only source rows lack a usable patch_id (must NOT appear).
    unkeyed_rows: int = 0
    newest_summary_total_systems: int | None = None


SEVERITY_WORDS = {0: "Unrated", 1: "Low", 2: "Moderate", 3: "Important", 4: "Critical"}
VENDORS = ("Microsoft", "Microsoft", "Microsoft", "Adobe", "Google", "Mozilla", "Oracle", "Zoom")
OS_CHOICES = (
    ("Windows 11 Enterprise Edition (x64)", "Windows 11"),
    ("Windows 10 Professional Edition (x64)", "Windows 10"),
    ("Windows Server 2019 Datacenter Edition (x64)", "Windows Server 2019"),
    ("Windows Server 2022 Standard Edition (x64)", "Windows Server 2022"),
    ("macOS 14 Sonoma", "Mac OS"),
)
RESOURCE_BASE = 95_000_011_000_000
PATCH_BASE = 300_000
DAY = timedelta(days=1)

# ----------------------------------------------------------------------------- factories


class SystemTruthFactory(factory.Factory):
    """The real systems (organisation codes like ``GS1``, 14-digit resource ids)."""

    class Meta:
        model = SystemTruth

    class Params:
        organisations = 6

    resource_id = factory.Sequence(lambda n: RESOURCE_BASE + 3067 * n)
    branch_office_id = factory.LazyAttributeSequence(lambda o, n: 700 + n % o.organisations)
    organisation = factory.LazyAttribute(lambda o: f"GS{o.branch_office_id - 699} Pty Ltd")
    name = factory.LazyAttributeSequence(
        lambda o, n: f"GS{o.branch_office_id - 699}-{'SRV' if n % 5 == 0 else 'WS'}{n:05d}"
    )
    os_name = factory.fuzzy.FuzzyChoice([c[0] for c in OS_CHOICES])
    os_platform_name = factory.LazyAttribute(
        lambda o: next(p for n, p in OS_CHOICES if n == o.os_name)
    )
    ip_address = factory.Sequence(lambda n: f"10.{n // 65025 % 250}.{n // 255 % 255}.{n % 255 + 1}")
    health = factory.fuzzy.FuzzyChoice([1, 1, 1, 1, 2, 3, 3, 0])


class PatchTruthFactory(factory.Factory):
    """The real patches: unique ``patch_id``, ``update_id`` repeating 0-9."""

    class Meta:
        model = PatchTruth

    patch_id = factory.Sequence(lambda n: PATCH_BASE + n)
    update_id = factory.Sequence(lambda n: n % 10)
    bulletin_id = factory.Sequence(lambda n: f"KB{5_000_000 + n}")
    vendor = factory.fuzzy.FuzzyChoice(VENDORS)
    name = factory.LazyAttributeSequence(lambda o, n: f"{o.vendor} update {o.bulletin_id} (n{n})")
    severity = factory.fuzzy.FuzzyChoice([4, 3, 3, 2, 2, 1, 0])
    # released 10-600 days before the first run (epoch ms, as PMP sends)
    released_ms = factory.fuzzy.FuzzyInteger(
        int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2025, 10, 1, tzinfo=UTC).timestamp() * 1000),
    )


class AllSystemsRecordFactory(factory.DictFactory):
    """An ``/patch/allsystems`` record (raw_data of ``all_systems``)."""

    class Params:
        system: SystemTruth | None = None
        run_ms = 0

    resource_id = factory.LazyAttribute(lambda o: o.system.resource_id)
    resource_name = factory.LazyAttribute(lambda o: o.system.name)
    resource_health_status = factory.LazyAttribute(lambda o: o.system.health)
    os_platform_name = factory.LazyAttribute(lambda o: o.system.os_platform_name)
    os_name = factory.LazyAttribute(lambda o: o.system.os_name)
    branch_office_id = factory.LazyAttribute(lambda o: o.system.branch_office_id)
    branch_office_name = factory.LazyAttribute(lambda o: o.system.organisation)
    ip_address = factory.LazyAttribute(lambda o: o.system.ip_address)
    last_patched_time = factory.fuzzy.FuzzyChoice([0, 1_760_000_000_000, 1_762_000_000_000])
    total_driver_patches = factory.fuzzy.FuzzyInteger(0, 4)
    missing_bios_patches = factory.fuzzy.FuzzyChoice([0, 0, 1, "--"])
    last_scan_time = factory.LazyAttribute(lambda o: o.run_ms - 3_600_000)
    computer_live_status = factory.fuzzy.FuzzyChoice([0, 1, 1, 1])
    agent_last_contact_time = factory.LazyAttribute(lambda o: o.run_ms - 600_000)


class ScanDetailsRecordFactory(factory.DictFactory):
    """A ``/patch/scandetails`` record (52 fields; dotted keys verbatim; ``'--'`` nulls)."""

    class Params:
        system: SystemTruth | None = None
        run_ms = 0

    resource_id = factory.LazyAttribute(lambda o: o.system.resource_id)
    resource_name = factory.LazyAttribute(lambda o: o.system.name)
    ip_address = factory.LazyAttribute(lambda o: o.system.ip_address)
    mac_address = "--"
    domain_netbios_name = "CORP"
    branch_office_id = factory.LazyAttribute(lambda o: o.system.branch_office_id)
    branch_office_name = factory.LazyAttribute(lambda o: o.system.organisation)
    os_name = factory.LazyAttribute(lambda o: o.system.os_name)
    os_platform = 1
    os_platform_name = factory.LazyAttribute(lambda o: o.system.os_platform_name)
    agent_version = "11.3.2416.01"
    agent_installed_on = 1_700_000_000_000
    agent_last_contact_time = factory.LazyAttribute(lambda o: o.run_ms - 900_000)
    computer_live_status = factory.fuzzy.FuzzyChoice([0, 1])
    installation_status = 22
    last_scan_time = factory.LazyAttribute(lambda o: o.run_ms - 7_200_000)
    last_successful_scan = factory.LazyAttribute(lambda o: o.run_ms - 7_200_000)
    scan_status = factory.fuzzy.FuzzyChoice([228, 228, 228, 226])
    scan_remarks = "--"
    resource_health_status = factory.LazyAttribute(lambda o: o.system.health)
    patch_status_label = "--"
    owner = "--"
    location = "--"

    @factory.post_generation
    def dotted(obj: dict[str, Any], create: bool, extracted: Any, **kwargs: Any) -> None:
        obj["branchofficedetails.branch_office_id"] = obj["branch_office_id"]
        obj["pmreshealthstatus.resource_id"] = obj["resource_id"]
        obj["oslanguage.i18n"] = "en_US"


class PatchRecordFactory(factory.DictFactory):
    """An ``/patch/allpatches`` (or installed/missing) record."""

    class Params:
        patch: PatchTruth | None = None

    patch_id = factory.LazyAttribute(lambda o: o.patch.patch_id)
    bulletin_id = factory.LazyAttribute(lambda o: o.patch.bulletin_id)
    update_name = "Security Updates"
    platform = "Windows"
    patch_released_time = factory.LazyAttribute(lambda o: o.patch.released_ms)
    patch_size = factory.fuzzy.FuzzyInteger(10_000, 900_000_000)
    patch_noreboot = factory.fuzzy.FuzzyChoice([0, 1])
    installed = factory.fuzzy.FuzzyInteger(0, 40)
    severity = factory.LazyAttribute(lambda o: o.patch.severity)
    vendor_name = factory.LazyAttribute(lambda o: o.patch.vendor)
    patch_name = factory.LazyAttribute(lambda o: o.patch.name)


class SupportedPatchRecordFactory(factory.DictFactory):
    """A ``/patch/supportedpatches`` record: word severity, update_id repeating 0-9."""

    class Params:
        patch: PatchTruth | None = None

    patch_id = factory.LazyAttribute(lambda o: o.patch.patch_id)
    update_id = factory.LazyAttribute(lambda o: o.patch.update_id)
    bulletin_id = factory.LazyAttribute(lambda o: o.patch.bulletin_id)
    patch_lang = "en"
    patch_updated_time = factory.LazyAttribute(lambda o: o.patch.released_ms + 86_400_000)
    is_superceded = factory.fuzzy.FuzzyChoice([0, 0, 0, 1])
    vendor_name = factory.LazyAttribute(lambda o: o.patch.vendor)
    severity = factory.LazyAttribute(lambda o: SEVERITY_WORDS[o.patch.severity])
    patch_description = factory.LazyAttribute(lambda o: f"Fixes issues in {o.patch.name}")


class SystemReportEntryFactory(factory.DictFactory):
    """A ``/patch/systemreport`` entry (raw_data of ``system_reports``)."""

    class Params:
        patch: PatchTruth | None = None
        system: SystemTruth | None = None
        status = 202

    patch_id = factory.LazyAttribute(lambda o: o.patch.patch_id)
    patch_name = factory.LazyAttribute(lambda o: o.patch.name)
    bulletin_id = factory.LazyAttribute(lambda o: o.patch.bulletin_id)
    severity = factory.LazyAttribute(lambda o: o.patch.severity)
    patch_status = factory.LazyAttribute(lambda o: o.status)
    approval_status = factory.fuzzy.FuzzyChoice([211, 211, 0])
    is_reboot_required = factory.fuzzy.FuzzyChoice([0, 0, 1])
    patch_deployed = factory.LazyAttribute(lambda o: 1 if o.status == 201 else 0)
    resource_id_string = factory.LazyAttribute(lambda o: str(o.system.resource_id))
    deployment_status = factory.LazyAttribute(lambda o: {201: 209, 206: 206}.get(o.status, "--"))
    install_error_code = factory.LazyAttribute(lambda o: 18 if o.status == 206 else "--")
    deploy_remarks = factory.LazyAttribute(
        lambda o: "ESU licence required" if o.status == 206 else "--"
    )
    installed_time = factory.LazyAttribute(
        lambda o: o.patch.released_ms + 5 * 86_400_000 if o.status == 201 else 0
    )
    patch_released_time = factory.LazyAttribute(lambda o: o.patch.released_ms)
    patch_updated_time = factory.LazyAttribute(lambda o: o.patch.released_ms + 86_400_000)


# ----------------------------------------------------------------------------- writer


def _local_iso(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).replace(tzinfo=None).isoformat()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _insert(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    conn.executemany(sql, rows)


def _observe_state(truth: LegacyTruth, key: tuple[int, int], moment: datetime, status: int) -> None:
    seen = truth.states.get(key)
    if seen is None or moment >= seen[0]:
        truth.states[key] = (moment, status)


class LegacyBuilder:
    """Writes a legacy folder from a seeded random estate."""

    def __init__(
        self,
        directory: Path,
        sizes: LegacySizes = LegacySizes(),
        *,
        zone: str = "Australia/Brisbane",
        seed: int = 7,
        first_run: datetime = datetime(2025, 11, 20, 20, 0, tzinfo=UTC),
    ) -> None:
        factory.random.reseed_random(seed)
        self.rng = random.Random(seed)
        self.directory = directory
        self.sizes = sizes
        self.zone = ZoneInfo(zone)
        self.first_run = first_run
        directory.mkdir(parents=True, exist_ok=True)
        self.truth = LegacyTruth(directory=directory, zone=self.zone)
        self.systems = SystemTruthFactory.build_batch(
            sizes.systems, organisations=sizes.organisations
        )
        for s in self.systems:
            self.truth.systems[s.resource_id] = s
        n_patches = max(sizes.supported_patches, sizes.distinct_all_patches)
        self.patches = PatchTruthFactory.build_batch(n_patches)
        for p in self.patches:
            self.truth.patches[p.patch_id] = p
        SystemTruthFactory.reset_sequence()
        PatchTruthFactory.reset_sequence()
        self.run_times = [first_run + DAY * 7 * i for i in range(sizes.runs)]

    def _connect(self, name: str, ddl: str) -> sqlite3.Connection:
        path = self.directory / name
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.executescript(ddl)
        self.truth.files.append(name)
        return conn

    def _count(self, conn: sqlite3.Connection, name: str) -> None:
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            self.truth.rows[(name, table)] = rows

    # ---------------------------------------------------------------- pmp_config.db (A + C)

    def config_family_a(self, *, dcapi: bool = True) -> None:
        """``pmp_config.db`` of the extraction_id family (the live one), plus DCAPI."""
        conn = self._connect("pmp_config.db", FAMILY_A + (FAMILY_C if dcapi else ""))
        sizes, zone = self.sizes, self.zone
        runs = []
        for i, start in enumerate(self.run_times):
            status = "completed" if i < len(self.run_times) - 1 else "completed_with_errors"
            if i == 0 and len(self.run_times) > 2:
                status = "running"  # an interrupted run never marked finished
            runs.append(
                (
                    _local_iso(start, zone),
                    None if status == "running" else _local_iso(start + timedelta(hours=2), zone),
                    status,
                    11,
                    1000 * (i + 1),
                    "page 4 of viewconfig: empty" if status != "completed" else None,
                )
            )
        _insert(
            conn,
            "INSERT INTO api_extraction_runs (started_at, completed_at, status, "
            "endpoints_extracted, total_records, errors) VALUES (?,?,?,?,?,?)",
            runs,
        )
        self.truth.runs += len(runs)
        for i, start in enumerate(self.run_times):
            total = len(self.systems) - 1 + i
            summary = {
                "summary": {
                    "patch_summary": {
                        "installed_patches": 3566 + i,
                        "applicable_patches": 5301,
                        "new_patches": 34362,
                        "missing_patches": 1735 - i,
                    },
                    "missing_patch_severity_summary": {
                        "critical_count": 139 - i,
                        "important_count": 452,
                        "moderate_count": 549,
                        "low_count": 60,
                        "unrated_count": 534,
                        "total_count": 1734 - i,
                    },
                    "system_summary": {
                        "total_systems": total,
                        "healthy_systems": 1721,
                        "moderately_vulnerable_systems": 308,
                        "highly_vulnerable_systems": 1300,
                        "health_unknown_systems": 29,
                    },
                    "patch_scan_summary": {
                        "scanned_systems": 3320,
                        "unscanned_system_count": 38,
                        "scan_success_count": 3295,
                        "scan_failure_count": 25,
                    },
                    "vulnerability_db_summary": {
                        "last_db_update_status": "Success",
                        "last_db_update_time": _ms(start) - 3_600_000,
                        "is_auto_db_update_disabled": True,
                        "db_update_in_progress": False,
                    },
                    "apd_summary": {"number_of_apd_tasks": 70 + i},
                }
            }
            conn.execute(
                "INSERT INTO patch_summary (extraction_id, summary_data, extracted_at) "
                "VALUES (?,?,?)",
                (i + 1, json.dumps(summary), _local_iso(start + timedelta(minutes=1), zone)),
            )
            self.truth.newest_summary_total_systems = total
        last = len(self.run_times)
        newest = self.run_times[-1]

        # all_systems: INSERT OR REPLACE keyed by resource_id → the latest run wins
        rows = []
        for i, system in enumerate(self.systems[: sizes.all_systems_rows]):
            record = AllSystemsRecordFactory(system=system, run_ms=_ms(newest))
            if i % 9 == 4:
                del record["resource_name"]  # missing name: must come from another table
            if i % 13 == 6:
                record["resource_health_status"] = "--"
            raw = json.dumps(record) if i % 101 != 50 else "{not json"
            rows.append(
                (
                    system.resource_id,
                    last,
                    record.get("resource_health_status"),
                    system.os_platform_name,
                    system.branch_office_id,
                    record["last_patched_time"],
                    record["total_driver_patches"],
                    None,
                    raw,
                    _local_iso(newest + timedelta(minutes=5), zone),
                )
            )
        _insert(conn, "INSERT OR REPLACE INTO all_systems VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

        rows = []
        for system in self.systems[-sizes.scan_details_rows :]:
            record = ScanDetailsRecordFactory(system=system, run_ms=_ms(newest))
            rows.append(
                (
                    system.resource_id,
                    last,
                    system.health,
                    system.os_platform_name,
                    system.branch_office_id,
                    record["agent_installed_on"],
                    json.dumps(record),
                    _local_iso(newest + timedelta(minutes=20), zone),
                )
            )
        _insert(conn, "INSERT OR REPLACE INTO scan_details VALUES (?,?,?,?,?,?,?,?)", rows)

        # all_patches: keyed by update_id (the bug). Most records arrive without update_id, so
        # SQLite gives the key a fresh rowid and rows pile up across runs.
        distinct = self.patches[: sizes.distinct_all_patches]
        rows = []
        produced = 0
        run = 0
        while produced < sizes.all_patches_rows:
            run_time = self.run_times[run % len(self.run_times)]
            for j, patch in enumerate(distinct):
                if produced >= sizes.all_patches_rows:
                    break
                record = PatchRecordFactory(patch=patch)
                key = None
                if j < 10 and run == 0:
                    record["update_id"] = patch.update_id  # 0-9: later rows overwrite earlier
                    key = patch.update_id
                if j % 97 == 3:
                    del record["patch_id"]  # no real key: must be skipped, not mis-keyed
                    self.truth.unkeyed_rows += 1
                rows.append(
                    (
                        key,
                        run + 1,
                        patch.bulletin_id,
                        "Security Updates",
                        "Windows",
                        patch.released_ms,
                        record["patch_size"],
                        record["patch_noreboot"],
                        record["installed"],
                        json.dumps(record),
                        _local_iso(run_time + timedelta(minutes=30), zone),
                    )
                )
                produced += 1
            run += 1
        _insert(conn, "INSERT OR REPLACE INTO all_patches VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

        rows = []
        for patch in self.patches[: sizes.supported_patches]:
            record = SupportedPatchRecordFactory(patch=patch)
            rows.append(
                (
                    patch.patch_id,
                    last,
                    patch.update_id,
                    patch.bulletin_id,
                    "en",
                    record["patch_updated_time"],
                    record["is_superceded"],
                    json.dumps(record),
                    _local_iso(newest + timedelta(hours=1), zone),
                )
            )
        _insert(conn, "INSERT OR REPLACE INTO supported_patches VALUES (?,?,?,?,?,?,?,?,?)", rows)

        for table, count in (
            ("missing_patches", sizes.missing_patches),
            ("installed_patches", sizes.installed_patches),
        ):
            rows = []
            for i, patch in enumerate(self.patches[:count]):
                record = PatchRecordFactory(patch=patch)
                record["update_id"] = patch.update_id
                if table == "missing_patches":
                    record["failed"] = i % 7
                    record["missing"] = 3 + i % 40
                    record["severity"] = SEVERITY_WORDS[patch.severity]
                rows.append(
                    (
                        None,  # composite key with NULL: every row is kept
                        last,
                        patch.bulletin_id,
                        "Security Updates",
                        "Windows",
                        patch.released_ms,
                        record["patch_noreboot"],
                        json.dumps(record),
                        _local_iso(newest + timedelta(minutes=45), zone),
                    )
                )
            _insert(conn, f"INSERT INTO {table} VALUES (?,?,?,?,?,?,?,?,?)", rows)

        rows = []
        for i in range(sizes.policies):
            org = 1 + i % sizes.organisations
            record = {
                "template_id": 9000 + i,
                "template_name": f"GS{org} - {('Weekend', 'Weekday', 'Daily')[i % 3]} servers",
                "creation_time": 1_700_000_000_000 + i,
                "modified_time": 1_750_000_000_000 + i,
                "is_template_alive": True,
                "set_as_default": i == 0,
                "user_id": 3,
                "customer_id": org,
                "first_name": "admin",
            }
            rows.append(
                (
                    9000 + i,
                    last,
                    record["template_name"],
                    record["creation_time"],
                    record["modified_time"],
                    1,
                    int(i == 0),
                    3,
                    json.dumps(record),
                    _local_iso(newest, zone),
                )
            )
        _insert(
            conn, "INSERT OR REPLACE INTO deployment_policies VALUES (?,?,?,?,?,?,?,?,?,?)", rows
        )
        rows = []
        for i in range(sizes.view_configs):
            record = {
                "config_id": 5000 + i,
                "collection_id": 6000 + i,
                "total_target_count": 10 + i,
                "os_platform_name": "Windows",
                "collection_platform_id": 1,
                "config_name": f"Deploy {i}",
            }
            rows.append(
                (
                    5000 + i,
                    last,
                    6000 + i,
                    10 + i,
                    "Windows",
                    1,
                    json.dumps(record),
                    _local_iso(newest, zone),
                )
            )
        _insert(conn, "INSERT OR REPLACE INTO view_configurations VALUES (?,?,?,?,?,?,?,?)", rows)
        for i, start in enumerate(self.run_times):
            policy = {"healthpolicy": {"consider_only_approved_patches": i % 2 == 0}}
            approval = {"approvalsettings": {"patch_approval": "manual"}}
            conn.execute(
                "INSERT INTO health_policy (extraction_id, policy_data, extracted_at) "
                "VALUES (?,?,?)",
                (i + 1, json.dumps(policy), _local_iso(start, zone)),
            )
            conn.execute(
                "INSERT INTO approval_settings (extraction_id, settings_data, extracted_at) "
                "VALUES (?,?,?)",
                (i + 1, json.dumps(approval), _local_iso(start, zone)),
            )
        rows = []
        for system in self.systems[: max(1, len(self.systems) // 3)]:
            record = {
                "resource_id": system.resource_id,
                "resource_name": system.name,
                "domain_name": "CORP",
                "customer_name": system.organisation,
                "branch_office_name": system.organisation,
                "os_name": system.os_name,
                "os_version": "10.0.22631",
                "ip_address": system.ip_address,
                "mac_address": "00:11:22:33:44:55",
                "last_contact_time": _ms(newest),
                "os_platform_name": system.os_platform_name,
                "agent_installed_on": 1_700_000_000_000,
            }
            rows.append(
                (
                    system.resource_id,
                    last,
                    system.os_platform_name,
                    1_700_000_000_000,
                    json.dumps(record),
                    _local_iso(newest, zone),
                )
            )
        _insert(conn, "INSERT INTO som_computers VALUES (?,?,?,?,?,?)", rows)
        conn.execute(
            "INSERT INTO som_summary VALUES (?,?,?)",
            (
                last,
                json.dumps({"computer_summary": {"total": len(rows)}}),
                _local_iso(newest, zone),
            ),
        )

        if dcapi:
            dc_time = self.run_times[-1] - timedelta(days=2)
            conn.execute(
                "INSERT INTO dcapi_extraction_checkpoints (snapshot_id, last_page, "
                "systems_extracted, patches_extracted, coverage_pct, created_at, updated_at) "
                "VALUES (1, 111, ?, ?, 72.5, ?, ?)",
                (len(self.systems), sizes.dcapi_mappings, _utc_text(dc_time), _utc_text(dc_time)),
            )
            conn.execute(
                "INSERT INTO dcapi_extraction_gaps (snapshot_id, page_num, error_type, "
                "error_message, response_sample, attempts, created_at) "
                "VALUES (1, 57, 'unknown_error', 'API request failed', '<html>', 3, ?)",
                (_utc_text(dc_time),),
            )
            self.truth.runs += 1
            rows = []
            seen_pairs: set[tuple[int, int]] = set()
            for i in range(sizes.dcapi_mappings):
                system = self.systems[i % len(self.systems)]
                patch = self.patches[(i * 7) % len(self.patches)]
                if (system.resource_id, patch.patch_id) not in seen_pairs:  # INSERT OR IGNORE
                    seen_pairs.add((system.resource_id, patch.patch_id))
                    _observe_state(
                        self.truth,
                        (system.resource_id, patch.patch_id),
                        dc_time.replace(microsecond=0),
                        (201, 202, 206)[i % 3],
                    )
                rows.append(
                    (
                        str(system.resource_id),
                        str(patch.patch_id),
                        patch.name,
                        SEVERITY_WORDS[patch.severity],
                        ("Installed", "Missing", "Failed")[i % 3],
                        patch.bulletin_id,
                        patch.vendor,
                        str(patch.released_ms + 86_400_000) if i % 3 == 0 else None,
                        _utc_text(dc_time),
                    )
                )
            _insert(
                conn,
                "INSERT OR IGNORE INTO dcapi_patch_mappings (resource_id, patch_id, patchname, "
                "severity, patch_status, bulletinid, vendor_name, installed_time, extracted_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
        conn.commit()
        self._count(conn, "pmp_config.db")
        conn.close()

    # ---------------------------------------------------------------- family B files

    def _b_snapshots(self, conn: sqlite3.Connection, times: Sequence[datetime]) -> list[int]:
        ids = []
        for i, moment in enumerate(times):
            cursor = conn.execute(
                "INSERT INTO snapshots (timestamp, extraction_duration_ms, status) VALUES (?,?,?)",
                (_utc_text(moment), 40_000 + i, "success" if i else "partial"),
            )
            ids.append(int(cursor.lastrowid or 0))
        self.truth.runs += len(ids)
        return ids

    def config_family_b(self) -> None:
        """``pmp_config.db`` of the snapshot family (pmp_db_schema + enhanced + policy/patch)."""
        conn = self._connect("pmp_config.db", FAMILY_B_CORE + FAMILY_B_ENHANCED + FAMILY_B_POLICY)
        times = [t - timedelta(hours=3) for t in self.run_times]
        ids = self._b_snapshots(conn, times)
        for i, (sid, moment) in enumerate(zip(ids, times, strict=True)):
            text = _utc_text(moment)
            conn.execute(
                "INSERT INTO patch_metrics (snapshot_id, installed_patches, applicable_patches, "
                "new_patches, missing_patches, timestamp) VALUES (?,?,?,?,?,?)",
                (sid, 3500 + i, 5301, 34362, 1700 - i, text),
            )
            conn.execute(
                "INSERT INTO severity_metrics (snapshot_id, critical_count, important_count, "
                "moderate_count, low_count, unrated_count, total_count, timestamp) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (sid, 150 - i, 450, 549, 60, 491 - i, 1700 - 2 * i, text),
            )
            conn.execute(
                "INSERT INTO system_health_metrics (snapshot_id, total_systems, healthy_systems, "
                "moderately_vulnerable_systems, highly_vulnerable_systems, "
                "health_unknown_systems, scanned_systems, unscanned_system_count, "
                "scan_success_count, scan_failure_count, number_of_apd_tasks, timestamp) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (sid, 3358, 1721, 308, 1300, 29, 3320, 38, 3295, 25, 68 + i, text),
            )
            conn.execute(
                "INSERT INTO vulnerability_db_metrics (snapshot_id, last_db_update_status, "
                "last_db_update_time, is_auto_db_update_disabled, timestamp) VALUES (?,?,?,?,?)",
                (sid, "Success", _ms(moment) - 7_200_000, 1, text),
            )
            for repeat in range(2):  # the old checker appended on every run
                conn.execute(
                    "INSERT INTO compliance_checks (snapshot_id, check_name, check_category, "
                    "passed, severity, details, threshold_value, actual_value, timestamp) "
                    "VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        sid,
                        "E8 critical missing <= 5",
                        "essential_eight",
                        0,
                        "CRITICAL",
                        "139 critical patches missing",
                        5,
                        139 - repeat,
                        text,
                    ),
                )
            conn.execute(
                "INSERT INTO compliance_checks (snapshot_id, check_name, check_category, passed, "
                "severity, threshold_value, actual_value, timestamp) VALUES (?,?,?,?,?,?,?,?)",
                (sid, "CIS 7.3 APD tasks >= 1", "cis", 1, "MEDIUM", 1, 70, text),
            )
        newest_id, newest = ids[-1], times[-1]
        rows = []
        for system in self.systems:
            values = dict.fromkeys(ENHANCED_SYSTEM_COLUMNS)
            values.update(
                resource_name=system.name,
                ip_address=system.ip_address,
                branch_office_id=str(system.branch_office_id),
                branch_office_name=system.organisation,
                os_name=system.os_name,
                os_platform_name=system.os_platform_name,
                resource_health_status=str(system.health),
                computer_live_status="1",
                scan_status="228",
                agent_last_contact_time=str(_ms(newest) - 600_000),
                owner="--",
            )
            rows.append(
                (
                    newest_id,
                    str(system.resource_id),
                    *(values[c] for c in ENHANCED_SYSTEM_COLUMNS),
                    _utc_text(newest),
                    _utc_text(newest),
                )
            )
        marks = ",".join("?" * (len(ENHANCED_SYSTEM_COLUMNS) + 4))
        _insert(
            conn,
            f"INSERT INTO systems (snapshot_id, resource_id, {', '.join(ENHANCED_SYSTEM_COLUMNS)}, "
            f"created_at, updated_at) VALUES ({marks})",
            rows,
        )
        for i in range(self.sizes.policies):
            settings = {"template_id": 9000 + i, "template_name": f"GS{1 + i % 3} policy {i}"}
            conn.execute(
                "INSERT INTO deployment_policies (snapshot_id, config_id, config_name, "
                "platform_name, settings_json, created_time, extracted_at) VALUES (?,?,?,?,?,?,?)",
                (
                    newest_id,
                    None,
                    settings["template_name"],
                    "Windows",
                    json.dumps(settings),
                    1_700_000_000_000,
                    _utc_text(newest),
                ),
            )
        conn.execute(
            "INSERT INTO health_policy (snapshot_id, healthy_threshold, critical_weight, "
            "settings_json, extracted_at) VALUES (?,?,?,?,?)",
            (
                newest_id,
                0,
                10,
                json.dumps({"consider_only_approved_patches": False}),
                _utc_text(newest),
            ),
        )
        conn.execute(
            "INSERT INTO approval_settings (snapshot_id, approval_mode, auto_approval_enabled, "
            "settings_json, extracted_at) VALUES (?,?,?,?,?)",
            (newest_id, "--", 0, "{}", _utc_text(newest)),
        )
        for i in range(3):
            conn.execute(
                "INSERT INTO deployment_configs (snapshot_id, deployment_config_id, config_name, "
                "platform_name, target_systems_count, execution_status, extracted_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    newest_id,
                    str(800 + i) if i else "APD-x",
                    f"APD task {i}",
                    "Windows",
                    40,
                    "Completed",
                    _utc_text(newest),
                ),
            )
        rows = []
        for i, patch in enumerate(self.patches[: self.sizes.supported_patches]):
            cves = f"CVE-2025-{21000 + i}, CVE-2024-{38000 + i}" if i % 4 == 0 else None
            rows.append(
                (
                    newest_id,
                    str(patch.patch_id),
                    patch.name,
                    patch.bulletin_id,
                    patch.vendor,
                    patch.severity,
                    SEVERITY_WORDS[patch.severity],
                    cves,
                    patch.released_ms,
                    _utc_text(newest),
                )
            )
        _insert(
            conn,
            "INSERT INTO patches (snapshot_id, pmp_patch_id, patch_name, bulletin_id, vendor_name, "
            "severity, severity_label, cve_ids, release_date, extracted_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute(
            "INSERT INTO patches (snapshot_id, pmp_patch_id, patch_name, extracted_at) "
            "VALUES (?, 'KB-not-an-id', 'stray', ?)",
            (newest_id, _utc_text(newest)),
        )
        rows = []
        for i, system in enumerate(self.systems):
            for patch in self.patches[i % 5 : i % 5 + 4]:
                _observe_state(
                    self.truth,
                    (system.resource_id, patch.patch_id),
                    newest.replace(microsecond=0),
                    202,
                )
                rows.append(
                    (
                        newest_id,
                        str(patch.patch_id),
                        str(system.resource_id),
                        202,
                        None,
                        system.name,
                        _utc_text(newest),
                    )
                )
        _insert(
            conn,
            "INSERT INTO patch_system_mapping (snapshot_id, pmp_patch_id, resource_id, "
            "patch_status, installed_time, resource_name, extracted_at) VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        conn.commit()
        self._count(conn, "pmp_config.db")
        conn.close()

    def resilient(self) -> None:
        """``pmp_resilient.db``: the three .sql schemas, checkpoints and gaps; only ``systems``
        is filled (7 columns, raw ``'--'``), one row per system per batch snapshot."""
        conn = self._connect(
            "pmp_resilient.db",
            FAMILY_B_CORE + FAMILY_B_ENHANCED + FAMILY_B_POLICY + RESILIENT_EXTRA,
        )
        base = self.run_times[-1] - timedelta(days=3)
        times = [base + timedelta(minutes=50 * i) for i in range(3)]
        ids = self._b_snapshots(conn, times)
        rows = []
        per_batch = max(1, self.sizes.resilient_systems_rows // 3)
        written = 0
        for batch, (sid, moment) in enumerate(zip(ids, times, strict=True)):
            chunk = self.systems[batch * per_batch // 2 : batch * per_batch // 2 + per_batch]
            for j, system in enumerate(chunk):
                if written >= self.sizes.resilient_systems_rows:
                    break
                health = "--" if j % 17 == 3 else str(system.health)
                rows.append(
                    (
                        sid,
                        str(system.resource_id),
                        system.name,
                        system.os_name,
                        system.ip_address,
                        system.organisation,
                        health,
                        _utc_text(moment),
                    )
                )
                written += 1
        _insert(
            conn,
            "INSERT OR IGNORE INTO systems (snapshot_id, resource_id, resource_name, os_name, "
            "ip_address, branch_office_name, resource_health_status, created_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        for batch, (sid, moment) in enumerate(zip(ids, times, strict=True)):
            conn.execute(
                "INSERT INTO extraction_checkpoints (snapshot_id, last_page, systems_extracted, "
                "coverage_pct, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (
                    sid,
                    min(135, 50 * (batch + 1)),
                    1901 + 600 * batch,
                    (56.5, 76.3, 99.1)[batch],
                    _utc_text(moment),
                    _utc_text(moment),
                ),
            )
        gaps = 0
        for batch, sid in enumerate(ids):
            for page in range(6 if batch < 2 else 5):
                conn.execute(
                    "INSERT INTO extraction_gaps (snapshot_id, page_num, error_type, "
                    "error_message, response_sample, attempts, created_at) VALUES (?,?,?,?,?,?,?)",
                    (
                        sid,
                        3 + 7 * page + 50 * batch,
                        ("unknown_error", "json_parse_error", "5xx_server_error")[page % 3],
                        "API request failed: 503",
                        '{"error": "***@***.com"}',
                        3,
                        _utc_text(times[batch]),
                    ),
                )
                gaps += 1
        conn.commit()
        self._count(conn, "pmp_resilient.db")
        conn.close()

    def systemreports(self) -> None:
        """``pmp_systemreports.db``: two runs; the second re-reports most systems, so
        ``system_reports`` holds duplicates (plain INSERT, no uniqueness)."""
        conn = self._connect("pmp_systemreports.db", SYSTEMREPORTS)
        zone = self.zone
        times = [self.run_times[-1] - timedelta(days=5), self.run_times[-1] + timedelta(hours=4)]
        conn.executemany(
            "INSERT INTO extraction_runs (started_at, completed_at, status, systems_found, "
            "systems_processed, total_patches, errors) VALUES (?,?,?,?,?,?,?)",
            [
                (
                    _local_iso(times[0], zone),
                    _local_iso(times[0] + timedelta(hours=1), zone),
                    "completed_with_errors",
                    len(self.systems),
                    len(self.systems) // 2,
                    0,
                    "systemreport resid=1: empty array despite total",
                ),
                (
                    _local_iso(times[1], zone),
                    _local_iso(times[1] + timedelta(hours=9), zone),
                    "completed",
                    len(self.systems),
                    len(self.systems),
                    0,
                    None,
                ),
            ],
        )
        self.truth.runs += 2
        rows = []
        for i, system in enumerate(self.systems):
            record = AllSystemsRecordFactory(system=system, run_ms=_ms(times[1]))
            rows.append(
                (
                    system.resource_id,
                    2,
                    None if i % 3 else system.name,
                    "CORP",
                    system.os_name,
                    system.ip_address,
                    "11.3.2416.01",
                    _ms(times[1]) - 300_000,
                    json.dumps(record),
                    _local_iso(times[1], zone),
                )
            )
        _insert(conn, "INSERT OR REPLACE INTO systems VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

        # per-system patch lists; run 1 covers the first ~30 % of systems, run 2 all of them,
        # so about 23 % of the rows are duplicates of an older observation
        target = self.sizes.system_reports
        per_system = max(1, round(target / (len(self.systems) * 1.3)))
        pool = self.patches[: max(per_system * 3, 50)]
        plan: list[tuple[int, SystemTruth, datetime]] = []
        for system in self.systems[: int(len(self.systems) * 0.3)]:
            plan.append((1, system, times[0]))
        for system in self.systems:
            plan.append((2, system, times[1]))
        produced = 0
        batch: list[tuple[Any, ...]] = []
        sql = (
            "INSERT INTO system_reports (extraction_id, resource_id, patch_id, patch_name, "
            "bulletin_id, severity, patch_status, approval_status, is_reboot_required, "
            "patch_deployed, raw_data, extracted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        rng = self.rng
        index = 0
        while produced < target:
            run_id, system, moment = plan[index % len(plan)]
            index += 1
            offset = (system.resource_id // 3067) % len(pool)
            for k in range(per_system):
                if produced >= target:
                    break
                patch = pool[(offset + k) % len(pool)]
                status = 201 if run_id == 2 and k % 3 == 0 else (206 if k % 11 == 5 else 202)
                entry = SystemReportEntryFactory(patch=patch, system=system, status=status)
                column_status: int | None = status
                if produced % 211 == 7:  # no usable install status anywhere: must be skipped
                    entry.pop("patch_status")
                    entry.pop("patch_deployed")
                    entry["deployment_status"] = "--"
                    column_status = None
                    deployed = None
                else:
                    deployed = entry["patch_deployed"]
                # every 509th row: the patch id only in raw_data
                column_patch = None if produced % 509 == 11 else patch.patch_id
                batch.append(
                    (
                        run_id,
                        system.resource_id,
                        column_patch,
                        patch.name,
                        patch.bulletin_id,
                        patch.severity,
                        column_status,
                        entry["approval_status"],
                        entry["is_reboot_required"],
                        deployed,
                        json.dumps(entry),
                        _local_iso(moment + timedelta(seconds=produced % 3600), zone),
                    )
                )
                if column_status is not None:
                    when = (moment + timedelta(seconds=produced % 3600)).replace(microsecond=0)
                    _observe_state(self.truth, (system.resource_id, patch.patch_id), when, status)
                produced += 1
            if len(batch) >= 20_000:
                conn.executemany(sql, batch)
                batch = []
        conn.executemany(sql, batch)
        _ = rng
        conn.commit()
        self._count(conn, "pmp_systemreports.db")
        conn.close()

    def empty_files(self) -> None:
        """The two databases the old plans call empty: one with a wasted schema, one 0 bytes."""
        path = self.directory / "pmp_complete_intelligence.db"
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.executescript(FAMILY_A)
        conn.close()
        (self.directory / "pmp_patch_systems.db").write_bytes(b"")


def build_legacy_dir(
    directory: Path,
    sizes: LegacySizes = LegacySizes(),
    *,
    config_family: str | None = "A",
    resilient: bool = True,
    systemreports: bool = True,
    empty_files: bool = False,
    zone: str = "Australia/Brisbane",
    seed: int = 7,
) -> LegacyTruth:
    """Write a legacy folder and return its ground truth.

    ``config_family``: ``"A"`` (extraction_id family + DCAPI, the live one), ``"B"``
    (snapshot family) or None (no pmp_config.db)."""
    builder = LegacyBuilder(directory, sizes, zone=zone, seed=seed)
    if config_family == "A":
        builder.config_family_a()
    elif config_family == "B":
        builder.config_family_b()
    if resilient:
        builder.resilient()
    if systemreports:
        builder.systemreports()
    if empty_files:
        builder.empty_files()
    return builder.truth


# ----------------------------------------------------------------------------- unified schema

#: The consolidation sprint's unified schema (maia-legacy.md §3.1), tables in script order. The
#: unified extractor's ``init_database()`` ran it with ``executescript`` on its default
#: database, pmp_config.db (§1.0, §3.5); on a family-A file ``CREATE TABLE IF NOT EXISTS``
#: keeps A's ``deployment_policies`` and the index on its ``snapshot_id`` fails (§1.0 "Verified
#: here"), leaving the tables created before it behind, empty.
UNIFIED_TABLES = """
CREATE TABLE IF NOT EXISTS snapshots (snapshot_id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, api_version TEXT DEFAULT '1.4',
  extraction_duration_ms INTEGER CHECK (extraction_duration_ms >= 0),
  status TEXT CHECK (status IN ('success','partial','failed')) DEFAULT 'success',
  error_message TEXT);
CREATE TABLE IF NOT EXISTS systems (system_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, resource_id TEXT NOT NULL, resource_name TEXT NOT NULL,
  computer_name TEXT, ip_address TEXT, mac_address TEXT, domain_name TEXT,
  branch_office_id TEXT, branch_office_name TEXT NOT NULL, customer_id TEXT, os_name TEXT,
  os_platform_name TEXT, os_platform INTEGER, service_pack TEXT, agent_version TEXT,
  agent_installed_on INTEGER, agent_last_contact_time INTEGER, last_contact_time INTEGER,
  resource_health_status INTEGER, computer_live_status INTEGER, scan_status INTEGER,
  total_driver_patches INTEGER, missing_bios_patches INTEGER, last_patched_time INTEGER,
  last_scan_time INTEGER, last_successful_scan INTEGER, raw_data TEXT,
  extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP, UNIQUE (snapshot_id, resource_id));
CREATE TABLE IF NOT EXISTS patches (patch_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, pmp_patch_id TEXT NOT NULL, patch_name TEXT, update_name TEXT,
  bulletin_id TEXT, kb_number TEXT, vendor_name TEXT, product_name TEXT, platform TEXT,
  platform_name TEXT, update_type TEXT, patch_lang TEXT, severity INTEGER, severity_label TEXT,
  patch_status INTEGER, approval_status INTEGER, is_superceded INTEGER, patch_noreboot INTEGER,
  patch_size INTEGER, installed INTEGER, patch_released_time INTEGER,
  patch_updated_time INTEGER, raw_data TEXT, extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (snapshot_id, pmp_patch_id));
CREATE TABLE IF NOT EXISTS patch_system_mapping (mapping_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, pmp_patch_id TEXT NOT NULL, resource_id TEXT NOT NULL,
  patch_status INTEGER, approval_status INTEGER, patch_deployed INTEGER, patch_name TEXT,
  bulletin_id TEXT, severity INTEGER, is_reboot_required INTEGER, raw_data TEXT,
  extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP, UNIQUE (snapshot_id, pmp_patch_id, resource_id));
CREATE TABLE IF NOT EXISTS vulnerabilities (vulnerability_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, cve_id TEXT NOT NULL, cve_year INTEGER, cvss_score REAL,
  cvss_severity TEXT, pmp_patch_ids TEXT, description TEXT, published_date TEXT,
  extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP, UNIQUE (snapshot_id, cve_id));
CREATE TABLE IF NOT EXISTS patch_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, installed_patches INTEGER DEFAULT 0,
  applicable_patches INTEGER DEFAULT 0, new_patches INTEGER DEFAULT 0,
  missing_patches INTEGER DEFAULT 0, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS severity_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, critical_count INTEGER DEFAULT 0,
  important_count INTEGER DEFAULT 0, moderate_count INTEGER DEFAULT 0,
  low_count INTEGER DEFAULT 0, unrated_count INTEGER DEFAULT 0, total_count INTEGER DEFAULT 0,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS system_health_metrics (metric_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, total_systems INTEGER DEFAULT 0,
  healthy_systems INTEGER DEFAULT 0, moderately_vulnerable_systems INTEGER DEFAULT 0,
  highly_vulnerable_systems INTEGER DEFAULT 0, health_unknown_systems INTEGER DEFAULT 0,
  scanned_systems INTEGER DEFAULT 0, unscanned_system_count INTEGER DEFAULT 0,
  scan_success_count INTEGER DEFAULT 0, scan_failure_count INTEGER DEFAULT 0,
  number_of_apd_tasks INTEGER DEFAULT 0, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS vulnerability_db_metrics (
  metric_id INTEGER PRIMARY KEY AUTOINCREMENT, snapshot_id INTEGER NOT NULL,
  last_db_update_status TEXT, last_db_update_time INTEGER,
  is_auto_db_update_disabled BOOLEAN DEFAULT 0, db_update_in_progress BOOLEAN DEFAULT 0,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS deployment_policies (policy_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, template_id INTEGER, template_name TEXT, creation_time INTEGER,
  modified_time INTEGER, is_template_alive INTEGER, set_as_default INTEGER, user_id INTEGER,
  raw_data TEXT, extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS deployment_tasks (task_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, apd_task_id TEXT, task_name TEXT, task_status TEXT,
  execution_status TEXT, platform_name TEXT, target_systems_count INTEGER,
  scheduled_time INTEGER, executed_time INTEGER, success_count INTEGER, failure_count INTEGER,
  pending_count INTEGER, extracted_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS compliance_checks (check_id INTEGER PRIMARY KEY AUTOINCREMENT,
  snapshot_id INTEGER NOT NULL, check_name TEXT NOT NULL, check_category TEXT NOT NULL,
  passed BOOLEAN NOT NULL, severity TEXT NOT NULL, details TEXT, threshold_value REAL,
  actual_value REAL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS idx_systems_snapshot_id ON systems(snapshot_id);
CREATE INDEX IF NOT EXISTS idx_deployment_policies_snapshot ON deployment_policies(snapshot_id);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,
  applied_at DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT);
"""


def run_unified_schema_script(path: Path) -> list[str]:
    """Run the unified schema script on ``path`` as the unified extractor did (autocommit
    ``executescript``); returns the tables it left. On a family-A pmp_config.db it stops at
    the ``deployment_policies(snapshot_id)`` index, as the reference verified."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(UNIFIED_TABLES)
    except sqlite3.OperationalError as exc:
        if "snapshot_id" not in str(exc):
            raise
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    conn.close()
    return tables


#: The "wasted schema" of the two databases no code ever wrote (maia-legacy.md §1.0): some
#: empty tables of no Maia shape.
WASTED_SCHEMA = """
CREATE TABLE systems (id INTEGER PRIMARY KEY, resource_id TEXT, name TEXT, org TEXT);
CREATE TABLE patches (id INTEGER PRIMARY KEY, patch_id TEXT, title TEXT);
"""


def wasted_schema_files(directory: Path) -> None:
    """Give both "empty" databases a wasted schema (tables of no known shape, no rows)."""
    for name in ("pmp_complete_intelligence.db", "pmp_patch_systems.db"):
        path = directory / name
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.executescript(WASTED_SCHEMA)
        conn.close()


# ----------------------------------------------------------------------------- one-shape files


class MinimalRowFactory(factory.DictFactory):
    """Plausible values for any legacy column, by name (a row of a table that has only the
    required columns of its shape)."""

    raw_data = factory.LazyFunction(
        lambda: json.dumps(
            {"patch_id": 500001, "resource_id": 95000011194313, "resource_name": "GS1-DC01"}
        )
    )
    summary_data = "{}"
    policy_data = "{}"
    settings_data = "{}"
    settings_json = "{}"
    started_at = "2025-11-20T09:00:00"
    timestamp = "2025-11-26 01:00:00"
    status = "completed"
    check_name = "E8 critical missing <= 5"
    error_type = "unknown_error"
    pmp_patch_id = "500001"
    resource_id = 95000011194313
    patch_id = 500001
    cve_id = "CVE-2025-1111"
    view_name = "All systems"
    apd_task_id = "4001"


#: The file a shape's family lives in.
FAMILY_FILE = {
    "A": "pmp_config.db",
    "C": "pmp_config.db",
    "U": "pmp_config.db",
    "B": "pmp_resilient.db",
    "R": "pmp_systemreports.db",
}


def minimal_shape_dir(directory: Path, table: str, family: str, columns: Iterable[str]) -> Path:
    """A legacy folder whose only table is ``table`` with just ``columns`` and one row."""
    directory.mkdir(parents=True, exist_ok=True)
    names = sorted(columns)
    values = MinimalRowFactory()
    conn = sqlite3.connect(directory / FAMILY_FILE[family])
    conn.execute(f'CREATE TABLE "{table}" ({", ".join(names)})')
    conn.execute(
        f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in names)})',
        [values.get(name, 1) for name in names],
    )
    conn.commit()
    conn.close()
    return directory


# ----------------------------------------------------------------------------- hot journal

_KILLED_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")  # spill pages to the file before the commit
conn.execute("BEGIN")
for i in range(2000):
    conn.execute(
        "INSERT INTO system_reports (extraction_id, resource_id, patch_id, patch_status, "
        "raw_data, extracted_at) VALUES (9, 95000011194313, ?, 202, ?, '2025-12-01T20:00:00')",
        (600000 + i, "x" * 500),
    )
os._exit(9)  # killed: no commit, no rollback
"""


def leave_hot_journal(path: Path) -> Path:
    """Kill a writer of ``path`` (a pmp_systemreports.db) in the middle of a transaction,
    leaving the hot rollback journal beside it; returns the journal."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path)], check=False)
    journal = path.with_name(path.name + "-journal")
    assert journal.stat().st_size > 0
    return journal


# ----------------------------------------------------------------------------- old migrator


def old_migrator_database(path: Path, truth: LegacyTruth | None = None) -> Path:
    """The old consolidation migrator's target (maia-legacy.md §3.2): the unified schema,
    ``schema_version`` 1, one snapshot, systems with the ``System-<id>`` placeholder name and
    organisation ``Default``, chmod 600. Its default path is pmp-intel's default database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(UNIFIED_TABLES)
    conn.execute("INSERT INTO schema_version (version, description) VALUES (1, 'unified')")
    conn.execute(
        "INSERT INTO snapshots (timestamp, api_version, extraction_duration_ms, status) "
        "VALUES ('2026-01-16 03:00:00', '1.4', 0, 'success')"
    )
    resource_ids = sorted(truth.systems) if truth else [95000011194313, 95000011194314]
    conn.executemany(
        "INSERT INTO systems (snapshot_id, resource_id, resource_name, branch_office_name, "
        "raw_data, extracted_at) VALUES (1, ?, ?, 'Default', '{}', '2025-11-25T09:10:00')",
        [(str(r), f"System-{r}") for r in resource_ids],
    )
    conn.commit()
    conn.close()
    path.chmod(0o600)
    return path
