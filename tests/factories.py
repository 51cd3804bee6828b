"""factory-boy factories for every mapped model of ``pmp_intel.store.models``.

Every factory works on its own: sources and snapshots are made by SubFactories when not
given. History factories put their row in a snapshot of the *same* source (pass ``source=``,
``valid_from_snapshot=`` and optionally ``valid_to_snapshot=``; given only a snapshot, the
source is taken from it). Snapshot-scoped factories take ``snapshot=``.

Factories persist with a flush into the session bound by :func:`bind_session` (the
``factory_session`` fixture of ``tests/store/conftest.py`` binds the test's ``db_session``).
:data:`ALL_FACTORIES` lists them all; a test checks it covers every mapped class.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from pmp_intel.store import models as m
from pmp_intel.store.models.codes import (
    AgentInstallationStatus,
    ApprovalStatus,
    HealthStatus,
    InstallStatus,
    LiveStatus,
    Platform,
    ScanStatus,
    Severity,
)

#: A fixed, aware UTC "now" the factories' times are built around (Patch Tuesday + 1).
BASE_TIME = datetime(2025, 3, 12, 3, 30, tzinfo=UTC)

#: Endpoint names the extraction factories cycle through.
ENDPOINTS = ("allsystems", "allpatches", "scandetails", "deploymentpolicies", "viewconfig")

_session: Session | None = None


def bind_session(session: Session | None) -> None:
    """Point every factory at ``session`` (None unbinds)."""
    global _session
    _session = session


def current_session() -> Session:
    """The bound session; factories call this on every ``create``."""
    if _session is None:
        raise RuntimeError("factories are not bound to a session: use the factory_session fixture")
    return _session


def _ago(**delta: float) -> datetime:
    return BASE_TIME - timedelta(**delta)


def _id_or_none(obj: Any) -> int | None:
    return None if obj is None else obj.id


class BaseFactory(SQLAlchemyModelFactory):
    """Flushes into the session bound by :func:`bind_session`."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _generate(cls, strategy: Any, params: dict[str, Any]) -> Any:
        # Given a snapshot but no source, use the snapshot's source (never a stray one).
        if "source" in cls._meta.declarations and "source" not in params:
            for name in ("valid_from_snapshot", "snapshot"):
                if params.get(name) is not None:
                    params = {**params, "source": params[name].source}
                    break
        return super()._generate(strategy, params)


# --------------------------------------------------------------------------- core


class SourceFactory(BaseFactory):
    class Meta:
        model = m.Source

    name = factory.Sequence(lambda n: f"pmp-{n:03d}")
    base_url = factory.Sequence(lambda n: f"https://pmp{n:03d}.corp.example.com.au:8383")
    edition = "onprem"
    created_at = factory.LazyFunction(lambda: _ago(days=90))


class SnapshotFactory(BaseFactory):
    """A finished snapshot by default; ``SnapshotFactory(in_progress=True)`` for an open one."""

    class Meta:
        model = m.Snapshot

    class Params:
        in_progress = factory.Trait(
            status=m.SnapshotStatus.IN_PROGRESS.value,
            finished_at=None,
            merged_at=None,
            coverage_pct=None,
        )

    source = factory.SubFactory(SourceFactory)
    status = m.SnapshotStatus.COMPLETE.value
    trigger = m.SnapshotTrigger.CRON.value
    started_at = factory.Sequence(lambda n: BASE_TIME + timedelta(hours=n))
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=17))
    merged_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=18))
    coverage_pct = 100.0
    systems_reported = 250
    systems_extracted = 250
    records_extracted = 48_213
    requests_made = 612
    api_version = "1.4"
    pmp_intel_version = "0.1.0"
    details = factory.LazyFunction(lambda: {"host": "pmp-intel-01", "resumed": False})


class ExtractionLockFactory(BaseFactory):
    class Meta:
        model = m.ExtractionLock
        exclude = ("source", "snapshot")

    source = factory.SubFactory(SourceFactory)
    snapshot = factory.SubFactory(
        SnapshotFactory, source=factory.SelfAttribute("..source"), in_progress=True
    )
    source_id = factory.SelfAttribute("source.id")
    snapshot_id = factory.LazyAttribute(lambda o: _id_or_none(o.snapshot))
    holder = factory.Sequence(lambda n: f"pmp-intel-01:{4000 + n}")
    acquired_at = factory.LazyFunction(lambda: _ago(minutes=3))
    heartbeat_at = factory.LazyFunction(lambda: _ago(seconds=20))


# ---------------------------------------------------------------- history / staging


class HistoryFactory(BaseFactory):
    """Validity range and source of a history row."""

    class Meta:
        abstract = True
        exclude = ("source", "valid_from_snapshot", "valid_to_snapshot")

    source = factory.SubFactory(SourceFactory)
    valid_from_snapshot = factory.SubFactory(
        SnapshotFactory, source=factory.SelfAttribute("..source")
    )
    valid_to_snapshot = None
    source_id = factory.SelfAttribute("source.id")
    valid_from_snapshot_id = factory.SelfAttribute("valid_from_snapshot.id")
    valid_to_snapshot_id = factory.LazyAttribute(lambda o: _id_or_none(o.valid_to_snapshot))


class StagingFactory(BaseFactory):
    """Snapshot, endpoint and page position of a staging row."""

    class Meta:
        abstract = True
        exclude = ("snapshot",)

    snapshot = factory.SubFactory(SnapshotFactory, in_progress=True)
    snapshot_id = factory.SelfAttribute("snapshot.id")
    endpoint = "allsystems"
    parent_key = ""
    page = factory.Sequence(lambda n: 1 + n // 25)
    seq = factory.Sequence(lambda n: n % 25)


class SystemFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    resource_id = factory.Sequence(lambda n: 30_000_000_000_301 + n)
    resource_name = factory.Sequence(lambda n: f"WS-SYD-{n:04d}")
    domain_netbios_name = "CORP"
    branch_office_id = 30_000_000_000_001
    branch_office_name = "Sydney"
    customer_id = 1
    customer_name = "Acme Pty Ltd"
    ip_address = factory.Sequence(lambda n: f"10.20.{n // 250 % 250}.{n % 250 + 1}")
    mac_address = factory.Sequence(lambda n: f"00:50:56:a1:{n // 256 % 256:02x}:{n % 256:02x}")
    os_name = "Windows 11 Enterprise Edition (x64)"
    os_platform = int(Platform.WINDOWS)
    os_platform_name = "Windows"
    os_language = "English (United States)"
    service_pack = "23H2"
    agent_version = "11.3.2416.07"
    agent_installed_on = factory.LazyFunction(lambda: _ago(days=400))
    agent_installation_status = int(AgentInstallationStatus.INSTALLED)
    agent_last_contact_time = factory.LazyFunction(lambda: _ago(minutes=4))
    agent_last_bootup_time = factory.LazyFunction(lambda: _ago(days=2, hours=3))
    computer_live_status = int(LiveStatus.LIVE)
    resource_health_status = int(HealthStatus.VULNERABLE)
    scan_status = int(ScanStatus.SUCCESS)
    last_scan_time = factory.LazyFunction(lambda: _ago(hours=6))
    last_successful_scan_time = factory.LazyFunction(lambda: _ago(hours=6))
    last_patched_time = factory.LazyFunction(lambda: _ago(days=29))
    missing_ms_patches = 7
    missing_tp_patches = 3
    missing_driver_patches = 1
    missing_bios_patches = 0
    installed_ms_patches = 184
    installed_tp_patches = 41
    installed_driver_patches = 12
    installed_bios_patches = 1
    critical_patch_count = 2
    important_patch_count = 5
    moderate_patch_count = 3
    low_patch_count = 1
    reboot_required = False
    description = "Finance desktop, level 3"
    extra = factory.LazyFunction(lambda: {"agent_logged_on_users": "jsmith"})


class SystemFactory(HistoryFactory, SystemFieldsFactory):
    class Meta:
        model = m.System


class StagedSystemFactory(StagingFactory, SystemFieldsFactory):
    class Meta:
        model = m.StagedSystem


class PatchFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    patch_id = factory.Sequence(lambda n: 410_001 + n)
    update_id = factory.Sequence(lambda n: 4_001 + n % 50)  # repeats across patches, as in PMP
    bulletin_id = factory.Sequence(lambda n: f"KB50{53600 + n}")
    patch_name = factory.LazyAttribute(
        lambda o: f"2025-03 Cumulative Update for Windows 11 Version 23H2 ({o.bulletin_id})"
    )
    patch_description = "Security update for Windows 11."
    update_name = "Security Updates"
    patch_type = 1
    vendor_name = "Microsoft"
    platform = int(Platform.WINDOWS)
    platform_name = "Windows"
    severity = int(Severity.CRITICAL)
    approval_status = int(ApprovalStatus.APPROVED)
    download_status = 221
    patch_noreboot = 0
    uninstall_supported = True
    patch_size = 734_003_200
    patch_released_time = factory.LazyFunction(lambda: _ago(days=1))
    patch_updated_time = factory.LazyFunction(lambda: _ago(hours=20))
    patch_supported_time = factory.LazyFunction(lambda: _ago(hours=12))
    superseded_by = None
    is_superseded = False


class PatchFactory(HistoryFactory, PatchFieldsFactory):
    class Meta:
        model = m.Patch


class StagedPatchFactory(StagingFactory, PatchFieldsFactory):
    class Meta:
        model = m.StagedPatch

    endpoint = "allpatches"


class SystemPatchStateFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    resource_id = factory.Sequence(lambda n: 30_000_000_000_301 + n)
    patch_id = factory.Sequence(lambda n: 410_001 + n)
    install_status = int(InstallStatus.MISSING)
    approval_status = int(ApprovalStatus.APPROVED)
    deployment_status = None
    install_error_code = None
    installed_time = None
    deploy_remarks = "Waiting for the next deployment window"


class SystemPatchStateFactory(HistoryFactory, SystemPatchStateFieldsFactory):
    class Meta:
        model = m.SystemPatchState


class StagedSystemPatchStateFactory(StagingFactory, SystemPatchStateFieldsFactory):
    class Meta:
        model = m.StagedSystemPatchState

    endpoint = "systemreport"
    parent_key = factory.LazyAttribute(lambda o: str(o.resource_id))


class BranchOfficeFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    branch_office_id = factory.Sequence(lambda n: 30_000_000_000_001 + n)
    branch_office_name = factory.Sequence(lambda n: f"Branch {n:03d}")
    customer_id = 1


class BranchOfficeFactory(HistoryFactory, BranchOfficeFieldsFactory):
    class Meta:
        model = m.BranchOffice


class StagedBranchOfficeFactory(StagingFactory, BranchOfficeFieldsFactory):
    class Meta:
        model = m.StagedBranchOffice

    endpoint = "branchofficedetails"


class SomComputerFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    resource_id = factory.Sequence(lambda n: 30_000_000_000_301 + n)
    resource_name = factory.Sequence(lambda n: f"WS-SYD-{n:04d}")
    domain_name = "CORP"
    customer_name = "Acme Pty Ltd"
    branch_office_name = "Sydney"
    os_name = "Windows 11 Enterprise Edition (x64)"
    os_version = "10.0.22631"
    os_platform_name = "Windows"
    service_pack = "23H2"
    ip_address = factory.Sequence(lambda n: f"10.20.{n // 250 % 250}.{n % 250 + 1}")
    mac_address = factory.Sequence(lambda n: f"00:50:56:a1:{n // 256 % 256:02x}:{n % 256:02x}")
    agent_installed_on = factory.LazyFunction(lambda: _ago(days=400))
    installation_status = int(AgentInstallationStatus.INSTALLED)
    computer_live_status = int(LiveStatus.LIVE)
    last_contact_time = factory.LazyFunction(lambda: _ago(minutes=4))


class SomComputerFactory(HistoryFactory, SomComputerFieldsFactory):
    class Meta:
        model = m.SomComputer


class StagedSomComputerFactory(StagingFactory, SomComputerFieldsFactory):
    class Meta:
        model = m.StagedSomComputer

    endpoint = "som/computers"


class VulnerabilityFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    cve_id = factory.Sequence(lambda n: f"CVE-2025-{21_000 + n}")
    cvss_score = 7.8
    cvss_severity = "HIGH"
    description = "Windows Win32 Kernel Subsystem elevation of privilege vulnerability"
    published_time = factory.LazyFunction(lambda: _ago(days=1))


class VulnerabilityFactory(HistoryFactory, VulnerabilityFieldsFactory):
    class Meta:
        model = m.Vulnerability


class StagedVulnerabilityFactory(StagingFactory, VulnerabilityFieldsFactory):
    class Meta:
        model = m.StagedVulnerability

    endpoint = "threats"


class PatchVulnerabilityFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    patch_id = factory.Sequence(lambda n: 410_001 + n)
    cve_id = factory.Sequence(lambda n: f"CVE-2025-{21_000 + n}")


class PatchVulnerabilityFactory(HistoryFactory, PatchVulnerabilityFieldsFactory):
    class Meta:
        model = m.PatchVulnerability


class StagedPatchVulnerabilityFactory(StagingFactory, PatchVulnerabilityFieldsFactory):
    class Meta:
        model = m.StagedPatchVulnerability

    endpoint = "threats"
    parent_key = factory.LazyAttribute(lambda o: str(o.patch_id))


class DeploymentPolicyFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    template_id = factory.Sequence(lambda n: 301 + n)
    template_name = factory.Sequence(lambda n: f"Deploy any time at the earliest ({n})")
    user_id = 1
    created_by = "admin"
    customer_id = 1
    creation_time = factory.LazyFunction(lambda: _ago(days=200))
    modified_time = factory.LazyFunction(lambda: _ago(days=12))
    is_template_alive = True
    set_as_default = False


class DeploymentPolicyFactory(HistoryFactory, DeploymentPolicyFieldsFactory):
    class Meta:
        model = m.DeploymentPolicy


class StagedDeploymentPolicyFactory(StagingFactory, DeploymentPolicyFieldsFactory):
    class Meta:
        model = m.StagedDeploymentPolicy

    endpoint = "deploymentpolicies"


class DeploymentTaskFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    task_id = factory.Sequence(lambda n: 30_000_000_001_001 + n)
    task_name = factory.Sequence(lambda n: f"Patch Tuesday - Workstations {n}")
    task_type = 1
    collection_id = factory.Sequence(lambda n: 30_000_000_002_001 + n)
    collection_status = 1
    os_platform_id = int(Platform.WINDOWS)
    os_platform_name = "Windows"
    total_target = 250
    template_id = 301
    user_id = 1
    created_by = "admin"
    task_creation_time = factory.LazyFunction(lambda: _ago(days=60))
    task_modified_time = factory.LazyFunction(lambda: _ago(days=3))
    remarks = "Critical and important security updates"


class DeploymentTaskFactory(HistoryFactory, DeploymentTaskFieldsFactory):
    class Meta:
        model = m.DeploymentTask


class StagedDeploymentTaskFactory(StagingFactory, DeploymentTaskFieldsFactory):
    class Meta:
        model = m.StagedDeploymentTask

    endpoint = "apdTaskListdetails"


class PatchGroupFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    group_id = factory.Sequence(lambda n: 601 + n)
    group_name = factory.Sequence(lambda n: f"Browsers {n}")


class PatchGroupFactory(HistoryFactory, PatchGroupFieldsFactory):
    class Meta:
        model = m.PatchGroup


class StagedPatchGroupFactory(StagingFactory, PatchGroupFieldsFactory):
    class Meta:
        model = m.StagedPatchGroup

    endpoint = "patchgroups"


class ViewConfigurationFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    config_id = factory.Sequence(lambda n: 30_000_000_003_001 + n)
    collection_id = factory.Sequence(lambda n: 30_000_000_002_001 + n)
    total_target_count = 250
    os_platform_name = "Windows"
    collection_platform_id = int(Platform.WINDOWS)


class ViewConfigurationFactory(HistoryFactory, ViewConfigurationFieldsFactory):
    class Meta:
        model = m.ViewConfiguration


class StagedViewConfigurationFactory(StagingFactory, ViewConfigurationFieldsFactory):
    class Meta:
        model = m.StagedViewConfiguration

    endpoint = "viewconfig"


class HealthPolicyFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    vulnerable_critical = 1
    vulnerable_important = 3
    vulnerable_moderate = 10
    vulnerable_low = 20
    highly_vulnerable_critical = 3
    highly_vulnerable_important = 10
    highly_vulnerable_moderate = 30
    highly_vulnerable_low = 50
    consider_only_approved_patches = False


class HealthPolicyFactory(HistoryFactory, HealthPolicyFieldsFactory):
    class Meta:
        model = m.HealthPolicy


class StagedHealthPolicyFactory(StagingFactory, HealthPolicyFieldsFactory):
    class Meta:
        model = m.StagedHealthPolicy

    endpoint = "healthpolicy"


class ApprovalSettingFieldsFactory(BaseFactory):
    class Meta:
        abstract = True

    patch_approval = "manual"


class ApprovalSettingFactory(HistoryFactory, ApprovalSettingFieldsFactory):
    class Meta:
        model = m.ApprovalSetting


class StagedApprovalSettingFactory(StagingFactory, ApprovalSettingFieldsFactory):
    class Meta:
        model = m.StagedApprovalSetting

    endpoint = "approvalsettings"


# ------------------------------------------------------------------------- extraction


class ExtractionCheckpointFactory(BaseFactory):
    class Meta:
        model = m.ExtractionCheckpoint
        exclude = ("snapshot",)

    snapshot = factory.SubFactory(SnapshotFactory, in_progress=True)
    snapshot_id = factory.SelfAttribute("snapshot.id")
    endpoint = factory.Iterator(ENDPOINTS)
    parent_key = ""
    last_page = 12
    page_limit = 25
    total_reported = 300
    records_extracted = 300
    completed = True
    updated_at = factory.LazyFunction(lambda: _ago(minutes=5))


class ExtractionGapFactory(BaseFactory):
    class Meta:
        model = m.ExtractionGap
        exclude = ("source", "snapshot", "closed_in_snapshot")

    source = factory.SubFactory(SourceFactory)
    snapshot = factory.SubFactory(
        SnapshotFactory,
        source=factory.SelfAttribute("..source"),
        status=m.SnapshotStatus.PARTIAL.value,
        coverage_pct=99.2,
    )
    closed_in_snapshot = None
    source_id = factory.SelfAttribute("source.id")
    snapshot_id = factory.SelfAttribute("snapshot.id")
    closed_in_snapshot_id = factory.LazyAttribute(lambda o: _id_or_none(o.closed_in_snapshot))
    endpoint = "systemreport"
    parent_key = factory.Sequence(lambda n: str(30_000_000_000_301 + n))
    page = 3
    error_type = "http_5xx"
    http_status = 503
    attempts = 4
    error_message = "503 Service Unavailable after 4 attempts"
    response_sample = "<html><body>Service Unavailable</body></html>"
    status = m.GapStatus.OPEN.value
    created_at = factory.LazyFunction(lambda: _ago(minutes=9))
    last_attempt_at = factory.LazyFunction(lambda: _ago(minutes=8))
    closed_at = None


class EndpointRunFactory(BaseFactory):
    class Meta:
        model = m.EndpointRun
        exclude = ("snapshot",)

    snapshot = factory.SubFactory(SnapshotFactory, in_progress=True)
    snapshot_id = factory.SelfAttribute("snapshot.id")
    endpoint = factory.Iterator(ENDPOINTS)
    status = m.EndpointRunStatus.COMPLETE.value
    started_at = factory.LazyFunction(lambda: _ago(minutes=16))
    finished_at = factory.LazyFunction(lambda: _ago(minutes=15))
    duration_ms = 61_250
    total_reported = 250
    pages = 10
    records = 250
    requests = 11
    retries = 1
    errors = 1
    gaps = 0
    invalid_records = 0
    error_type = None
    error_message = None


# ---------------------------------------------------------------- per-snapshot figures


class SnapshotScopedFactory(BaseFactory):
    class Meta:
        abstract = True
        exclude = ("snapshot",)

    snapshot = factory.SubFactory(SnapshotFactory)
    snapshot_id = factory.SelfAttribute("snapshot.id")
    created_at = factory.LazyFunction(lambda: _ago(minutes=1))


class PatchMetricFactory(SnapshotScopedFactory):
    class Meta:
        model = m.PatchMetric

    scope = "total"
    scope_value = ""
    installed_pairs = 41_230
    missing_pairs = 1_874
    failed_pairs = 37
    applicable_pairs = factory.LazyAttribute(
        lambda o: o.installed_pairs + o.missing_pairs + o.failed_pairs
    )
    applicable_patches = 612
    installed_patches = 540
    missing_patches = 68
    failed_patches = 4
    systems = 250


class SeverityMetricFactory(SnapshotScopedFactory):
    class Meta:
        model = m.SeverityMetric

    scope = "total"
    scope_value = ""
    missing_critical = 120
    missing_important = 610
    missing_moderate = 800
    missing_low = 300
    missing_unrated = 44
    missing_total = factory.LazyAttribute(
        lambda o: (
            o.missing_critical
            + o.missing_important
            + o.missing_moderate
            + o.missing_low
            + o.missing_unrated
        )
    )
    failed_critical = 5
    failed_important = 12
    failed_moderate = 15
    failed_low = 4
    failed_unrated = 1
    failed_total = factory.LazyAttribute(
        lambda o: (
            o.failed_critical
            + o.failed_important
            + o.failed_moderate
            + o.failed_low
            + o.failed_unrated
        )
    )


class SystemHealthMetricFactory(SnapshotScopedFactory):
    class Meta:
        model = m.SystemHealthMetric

    scope = "total"
    scope_value = ""
    healthy = 160
    vulnerable = 62
    highly_vulnerable = 20
    health_unknown = 8
    total_systems = factory.LazyAttribute(
        lambda o: o.healthy + o.vulnerable + o.highly_vulnerable + o.health_unknown
    )
    live = factory.LazyAttribute(lambda o: o.total_systems - 30)
    down = 25
    live_unknown = 5
    scan_succeeded = factory.LazyAttribute(lambda o: o.total_systems - 20)
    scan_failed = 9
    scan_in_progress = 3
    not_scanned = 8
    stale_agents = 14


class VulnerabilityMetricFactory(SnapshotScopedFactory):
    class Meta:
        model = m.VulnerabilityMetric

    scope = "total"
    scope_value = ""
    cves_exposed = 312
    systems_exposed = 201
    pairs_exposed = 4_870
    known_exploited_cves = 9
    max_cvss = 9.8
    mean_cvss = 7.25


class TimeToPatchMetricFactory(SnapshotScopedFactory):
    class Meta:
        model = m.TimeToPatchMetric

    severity = int(Severity.CRITICAL)
    samples = 1_204
    mean_hours = 61.5
    median_hours = 40.25
    p90_hours = 150.0


class ComplianceCheckFactory(SnapshotScopedFactory):
    class Meta:
        model = m.ComplianceCheck

    profile = "e8-2023-11"
    strategy = m.Strategy.PATCH_OPERATING_SYSTEMS.value
    maturity_level = 2
    control_id = factory.Sequence(lambda n: f"ISM-{1876 + n}")
    title = "Patches for critical OS vulnerabilities applied within 48 hours"
    outcome = m.ControlOutcome.INEFFECTIVE.value
    systems_in_scope = 250
    pairs_in_scope = 1_840
    violations = 12
    not_yet_due = 30
    pct_compliant = 97.5
    oldest_overdue_time = factory.LazyFunction(lambda: _ago(days=9))
    details = factory.LazyFunction(
        lambda: {"worst_systems": ["WS-SYD-0007", "WS-SYD-0042"], "threshold_hours": 48}
    )


class ServerSummaryFactory(SnapshotScopedFactory):
    class Meta:
        model = m.ServerSummary

    installed_patches = 540
    applicable_patches = 612
    new_patches = 17
    missing_patches = 68
    missing_critical = 6
    missing_important = 21
    missing_moderate = 30
    missing_low = 9
    missing_unrated = 2
    missing_total = 68
    total_systems = 250
    healthy_systems = 160
    moderately_vulnerable_systems = 62
    highly_vulnerable_systems = 20
    health_unknown_systems = 8
    scanned_systems = 242
    unscanned_systems = 8
    scan_success_count = 230
    scan_failure_count = 12
    apd_tasks = 4
    last_db_update_status = "success"
    last_db_update_time = factory.LazyFunction(lambda: _ago(hours=2))
    auto_db_update_disabled = False
    db_update_in_progress = False
    som_summary = factory.LazyFunction(lambda: {"total_computers": 250, "live": 220})
    raw = factory.LazyFunction(lambda: {"summary": {"patch_summary": {"missing_patches": 68}}})


# -------------------------------------------------------------------------------- KEV


class KnownExploitedVulnerabilityFactory(BaseFactory):
    class Meta:
        model = m.KnownExploitedVulnerability

    cve_id = factory.Sequence(lambda n: f"CVE-2024-{38_000 + n}")
    vendor_project = "Microsoft"
    product = "Windows"
    vulnerability_name = "Microsoft Windows Kernel TOCTOU Race Condition Vulnerability"
    date_added = date(2025, 3, 11)
    due_date = date(2025, 4, 1)
    known_ransomware_use = False
    catalog_version = "2025.03.11"
    imported_at = factory.LazyFunction(lambda: _ago(hours=1))


def _concrete_factories() -> tuple[type[BaseFactory], ...]:
    found = [
        value
        for value in globals().values()
        if isinstance(value, type) and issubclass(value, BaseFactory) and not value._meta.abstract
    ]
    return tuple(sorted(found, key=lambda f: f.__name__))


#: Every concrete factory, one per mapped model.
ALL_FACTORIES: tuple[type[BaseFactory], ...] = _concrete_factories()

#: Model class → its factory.
FACTORY_FOR: dict[type[Any], type[BaseFactory]] = {f._meta.model: f for f in ALL_FACTORIES}

#: Factories of history tables (``valid_from_snapshot_id`` … ``valid_to_snapshot_id``).
HISTORY_FACTORIES = tuple(f for f in ALL_FACTORIES if issubclass(f, HistoryFactory))

#: Factories of staging tables (``stg_*``).
STAGING_FACTORIES = tuple(f for f in ALL_FACTORIES if issubclass(f, StagingFactory))


def natural_key(row: Any) -> dict[str, Any]:
    """The natural-key values of a history or staging row (empty for per-source singletons)."""
    return {name: getattr(row, name) for name in type(row).__natural_key__}


def create_in_snapshot(
    factory_class: type[BaseFactory], snapshot: m.Snapshot, **kwargs: Any
) -> Any:
    """One row of ``factory_class`` belonging to ``snapshot`` (and so to its source)."""
    columns = factory_class._meta.model.__table__.c
    if "valid_from_snapshot_id" in columns:
        return factory_class(valid_from_snapshot=snapshot, **kwargs)
    if "snapshot_id" in columns:
        if "source_id" in columns:
            return factory_class(source=snapshot.source, snapshot=snapshot, **kwargs)
        return factory_class(snapshot=snapshot, **kwargs)
    raise ValueError(f"{factory_class.__name__} rows do not belong to a snapshot")
