"""Models: every factory round-trips, the domains and invariants hold, datetimes are UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from factories import (
    ALL_FACTORIES,
    FACTORY_FOR,
    HISTORY_FACTORIES,
    STAGING_FACTORIES,
    ApprovalSettingFactory,
    ComplianceCheckFactory,
    EndpointRunFactory,
    ExtractionCheckpointFactory,
    ExtractionGapFactory,
    ExtractionLockFactory,
    KnownExploitedVulnerabilityFactory,
    PatchFactory,
    PatchMetricFactory,
    ServerSummaryFactory,
    SeverityMetricFactory,
    SnapshotFactory,
    SomComputerFactory,
    SourceFactory,
    StagedPatchFactory,
    StagedSystemFactory,
    StagedSystemPatchStateFactory,
    SystemFactory,
    SystemHealthMetricFactory,
    SystemPatchStateFactory,
    TimeToPatchMetricFactory,
    VulnerabilityMetricFactory,
    current_session,
)
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from pmp_intel.store.models import (
    AgentInstallationStatus,
    ApprovalStatus,
    Base,
    HealthStatus,
    InstallStatus,
    LiveStatus,
    ScanStatus,
    Severity,
    Snapshot,
    Source,
)
from pmp_intel.store.types import UTCDateTime

pytestmark = pytest.mark.usefixtures("factory_session")

Reject = Callable[..., IntegrityError]


def _name(factory_class: type) -> str:
    return factory_class.__name__


# ------------------------------------------------------------------------- factories


def test_every_mapped_class_has_exactly_one_factory() -> None:
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    models = [f._meta.model for f in ALL_FACTORIES]
    missing = sorted(cls.__name__ for cls in mapped - set(models))
    assert not missing, f"models without a factory in tests/factories.py: {missing}"
    assert sorted(c.__name__ for c in models) == sorted(c.__name__ for c in mapped)
    assert len(models) == len(set(models)), "two factories build the same model"
    assert FACTORY_FOR.keys() == mapped


@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=_name)
def test_factory_row_round_trips(db_session: Session, factory_class: Any) -> None:
    row = factory_class()
    mapper = inspect(type(row))
    written = {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
    identity = mapper.primary_key_from_instance(row)
    assert None not in identity

    db_session.expunge_all()
    loaded = db_session.get(type(row), tuple(identity))

    assert loaded is not None
    assert loaded is not row
    read = {attr.key: getattr(loaded, attr.key) for attr in mapper.column_attrs}
    assert read == written
    for key, value in read.items():
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), key


def test_factories_refuse_to_run_without_a_bound_session(
    factory_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert current_session() is factory_session
    monkeypatch.setattr("factories._session", None)
    with pytest.raises(RuntimeError, match="not bound to a session"):
        SourceFactory()


@pytest.mark.parametrize("factory_class", HISTORY_FACTORIES, ids=_name)
def test_history_factory_uses_a_snapshot_of_its_own_source(
    db_session: Session, factory_class: Any
) -> None:
    standalone = factory_class()
    snapshot = db_session.get(Snapshot, standalone.valid_from_snapshot_id)
    assert snapshot is not None
    assert snapshot.source_id == standalone.source_id
    assert standalone.valid_to_snapshot_id is None

    source = SourceFactory()
    in_source = factory_class(source=source)
    snapshot = db_session.get(Snapshot, in_source.valid_from_snapshot_id)
    assert snapshot is not None
    assert snapshot.source_id == source.id == in_source.source_id

    given = SnapshotFactory()
    sources_before = db_session.scalar(select(func.count()).select_from(Source))
    from_snapshot = factory_class(valid_from_snapshot=given)
    assert from_snapshot.source_id == given.source_id != source.id
    assert from_snapshot.valid_from_snapshot_id == given.id
    assert db_session.scalar(select(func.count()).select_from(Source)) == sources_before


# --------------------------------------------------------------------------- domains

BAD_VALUES = [
    # (factory, column, value, constraint name)
    (PatchFactory, "severity", 5, "ck_patches_severity_domain"),
    (PatchFactory, "severity", -1, "ck_patches_severity_domain"),
    (StagedPatchFactory, "severity", 5, "ck_stg_patches_severity_domain"),
    (PatchFactory, "approval_status", 210, "ck_patches_approval_status_domain"),
    (PatchFactory, "platform", 4, "ck_patches_platform_domain"),
    (
        SystemPatchStateFactory,
        "install_status",
        203,
        "ck_system_patch_states_install_status_domain",
    ),
    (
        StagedSystemPatchStateFactory,
        "install_status",
        203,
        "ck_stg_system_patch_states_install_status_domain",
    ),
    (
        SystemPatchStateFactory,
        "approval_status",
        210,
        "ck_system_patch_states_approval_status_domain",
    ),
    (SystemFactory, "resource_health_status", 4, "ck_systems_resource_health_status_domain"),
    (SystemFactory, "computer_live_status", 0, "ck_systems_computer_live_status_domain"),
    (SystemFactory, "scan_status", 230, "ck_systems_scan_status_domain"),
    (SystemFactory, "os_platform", 0, "ck_systems_os_platform_domain"),
    (
        SystemFactory,
        "agent_installation_status",
        25,
        "ck_systems_agent_installation_status_domain",
    ),
    (StagedSystemFactory, "scan_status", 225, "ck_stg_systems_scan_status_domain"),
    (
        SomComputerFactory,
        "installation_status",
        20,
        "ck_som_computers_installation_status_domain",
    ),
    (SomComputerFactory, "computer_live_status", 4, "ck_som_computers_computer_live_status_domain"),
    (
        ApprovalSettingFactory,
        "patch_approval",
        "auto",
        "ck_approval_settings_patch_approval_domain",
    ),
    (SnapshotFactory, "status", "success", "ck_snapshots_status_domain"),
    (SnapshotFactory, "trigger", "nightly", "ck_snapshots_trigger_domain"),
    (SnapshotFactory, "coverage_pct", 100.5, "ck_snapshots_coverage_range"),
    (SnapshotFactory, "coverage_pct", -0.1, "ck_snapshots_coverage_range"),
    (ExtractionGapFactory, "status", "resolved", "ck_extraction_gaps_status_domain"),
    (EndpointRunFactory, "status", "ok", "ck_endpoint_runs_status_domain"),
    (ExtractionCheckpointFactory, "last_page", -1, "ck_extraction_checkpoints_last_page_non"),
    (ExtractionCheckpointFactory, "records_extracted", -1, "ck_extraction_checkpoints_records_non"),
    (ComplianceCheckFactory, "outcome", "pass", "ck_compliance_checks_outcome_domain"),
    (ComplianceCheckFactory, "strategy", "application_control", "ck_compliance_checks_strategy"),
    (ComplianceCheckFactory, "maturity_level", 0, "ck_compliance_checks_maturity_level_domain"),
    (ComplianceCheckFactory, "maturity_level", 4, "ck_compliance_checks_maturity_level_domain"),
    (ComplianceCheckFactory, "pct_compliant", 100.1, "ck_compliance_checks_pct_range"),
    (PatchMetricFactory, "scope", "region", "ck_patch_metrics_scope_domain"),
    (TimeToPatchMetricFactory, "severity", 5, "ck_time_to_patch_metrics_severity_domain"),
    (VulnerabilityMetricFactory, "max_cvss", 10.1, "ck_vulnerability_metrics_max_cvss_range"),
    (VulnerabilityMetricFactory, "max_cvss", -1.0, "ck_vulnerability_metrics_max_cvss_range"),
    (KnownExploitedVulnerabilityFactory, "cve_id", "", "ck_known_exploited_vulnerabilities_cve"),
]


@pytest.mark.parametrize(
    ("factory_class", "column", "value", "constraint"),
    BAD_VALUES,
    ids=[f"{f._meta.model.__tablename__}.{c}={v!r}" for f, c, v, _ in BAD_VALUES],
)
def test_out_of_domain_value_rejected(
    reject: Reject, factory_class: Any, column: str, value: object, constraint: str
) -> None:
    reject(lambda: factory_class(**{column: value}), match=constraint)


GOOD_VALUES = [
    *((PatchFactory, "severity", int(v)) for v in Severity),
    (PatchFactory, "severity", None),
    *((PatchFactory, "approval_status", int(v)) for v in ApprovalStatus),
    *((SystemPatchStateFactory, "install_status", int(v)) for v in InstallStatus),
    *((SystemFactory, "resource_health_status", int(v)) for v in HealthStatus),
    *((SystemFactory, "computer_live_status", int(v)) for v in LiveStatus),
    *((SystemFactory, "scan_status", int(v)) for v in ScanStatus),
    *((SystemFactory, "agent_installation_status", int(v)) for v in AgentInstallationStatus),
    (ApprovalSettingFactory, "patch_approval", "automatic"),
    (SnapshotFactory, "trigger", "legacy-import"),
    (SnapshotFactory, "status", "partial"),
    (SnapshotFactory, "status", "failed"),
    (SnapshotFactory, "coverage_pct", 0.0),
    (SnapshotFactory, "coverage_pct", 100.0),
    (ComplianceCheckFactory, "outcome", "no_visibility"),
    (ComplianceCheckFactory, "strategy", "patch_applications"),
    (ComplianceCheckFactory, "maturity_level", 3),
    (ComplianceCheckFactory, "pct_compliant", 100.0),
    (ExtractionGapFactory, "status", "abandoned"),
    (EndpointRunFactory, "status", "unsupported"),
    (TimeToPatchMetricFactory, "severity", None),
    (VulnerabilityMetricFactory, "max_cvss", 10.0),
]


@pytest.mark.parametrize(
    ("factory_class", "column", "value"),
    GOOD_VALUES,
    ids=[f"{f._meta.model.__tablename__}.{c}={v!r}" for f, c, v in GOOD_VALUES],
)
def test_in_domain_value_accepted(
    db_session: Session, factory_class: Any, column: str, value: object
) -> None:
    row = factory_class(**{column: value})
    db_session.expire(row)
    assert getattr(row, column) == value


SUM_VIOLATIONS = [
    (SeverityMetricFactory, {"missing_total": 1}, "missing_sum"),
    (SeverityMetricFactory, {"missing_critical": 121, "missing_total": 1874}, "missing_sum"),
    (SeverityMetricFactory, {"failed_unrated": 2, "failed_total": 37}, "failed_sum"),
    (PatchMetricFactory, {"applicable_pairs": 43_140}, "pairs_sum"),
    (SystemHealthMetricFactory, {"healthy": 159, "total_systems": 250}, "health_sum"),
    (SystemHealthMetricFactory, {"down": 26}, "live_sum"),
    (SystemHealthMetricFactory, {"not_scanned": 9}, "scan_sum"),
    (SystemHealthMetricFactory, {"stale_agents": 251}, "stale_le_total"),
]


@pytest.mark.parametrize(
    ("factory_class", "values", "constraint"),
    SUM_VIOLATIONS,
    ids=[f"{f._meta.model.__tablename__}-{c}-{i}" for i, (f, _, c) in enumerate(SUM_VIOLATIONS)],
)
def test_metric_invariant_violation_rejected(
    reject: Reject, factory_class: Any, values: dict[str, int], constraint: str
) -> None:
    reject(lambda: factory_class(**values), match=constraint)


def test_metric_factories_satisfy_their_invariants(db_session: Session) -> None:
    severity = SeverityMetricFactory(missing_critical=0, missing_unrated=0)
    assert severity.missing_total == 610 + 800 + 300
    health = SystemHealthMetricFactory(stale_agents=250)
    assert health.total_systems == health.stale_agents == 250
    patch = PatchMetricFactory(installed_pairs=0, missing_pairs=0, failed_pairs=0)
    assert patch.applicable_pairs == 0


# -------------------------------------------------------- per-snapshot uniqueness / FKs

PER_SNAPSHOT_KEYS = [
    (PatchMetricFactory, ("scope", "scope_value")),
    (SeverityMetricFactory, ("scope", "scope_value")),
    (SystemHealthMetricFactory, ("scope", "scope_value")),
    (VulnerabilityMetricFactory, ("scope", "scope_value")),
    (TimeToPatchMetricFactory, ("severity",)),
    (ComplianceCheckFactory, ("profile", "strategy", "maturity_level", "control_id")),
    (ServerSummaryFactory, ()),
    (EndpointRunFactory, ("endpoint",)),
    (ExtractionCheckpointFactory, ("endpoint", "parent_key")),
    (ExtractionGapFactory, ("endpoint", "parent_key", "page")),
]


@pytest.mark.parametrize(
    ("factory_class", "key"), PER_SNAPSHOT_KEYS, ids=[_name(f) for f, _ in PER_SNAPSHOT_KEYS]
)
def test_per_snapshot_key_is_unique_within_a_snapshot_only(
    reject: Reject, factory_class: Any, key: tuple[str, ...]
) -> None:
    first = factory_class()
    snapshot = first.snapshot_id
    same = {name: getattr(first, name) for name in key}
    owner = current_session().get(Snapshot, snapshot)
    assert owner is not None

    reject(lambda: factory_class(snapshot=owner, **same), match="UNIQUE|unique")

    other = SnapshotFactory(source=owner.source)
    second = factory_class(snapshot=other, **same)
    assert second.id != first.id


@pytest.mark.parametrize("factory_class", STAGING_FACTORIES, ids=_name)
def test_staging_page_position_has_no_unique_index(factory_class: Any) -> None:
    """Revision 0003: a page is written once because the page writer refuses a page at or
    below its checkpoint (tests/extract/test_staging.py), not by a unique index that made
    every staged row a second B-tree insert."""
    first = factory_class()
    snapshot = current_session().get(Snapshot, first.snapshot_id)
    position = {k: getattr(first, k) for k in ("endpoint", "parent_key", "page", "seq")}

    assert factory_class(snapshot=snapshot, **position).id != first.id

    # The same entity twice in one snapshot (two pages) is allowed: the merge dedupes.
    again = factory_class(
        snapshot=snapshot,
        **{**position, "seq": first.seq + 1},
        **{k: getattr(first, k) for k in type(first).__natural_key__},
    )
    assert again.id != first.id


def test_only_one_in_progress_snapshot_per_source(reject: Reject) -> None:
    source = SourceFactory()
    SnapshotFactory(source=source, in_progress=True)
    SnapshotFactory(source=source)  # a finished one alongside is fine

    reject(
        lambda: SnapshotFactory(source=source, in_progress=True),
        match="uq_snapshots_open|UNIQUE constraint failed: snapshots.source_id",
    )
    assert SnapshotFactory(in_progress=True).status == "in_progress"  # another source


def test_one_extraction_lock_per_source(reject: Reject) -> None:
    lock = ExtractionLockFactory()
    source = current_session().get(Source, lock.source_id)
    current_session().expunge(lock)  # so the database, not the identity map, refuses it
    reject(
        lambda: ExtractionLockFactory(source=source, snapshot=None),
        match="pk_extraction_locks|UNIQUE constraint failed: extraction_locks.source_id",
    )


def test_source_names_are_unique(reject: Reject) -> None:
    SourceFactory(name="acme-prod-names-are-unique")
    reject(
        lambda: SourceFactory(name="acme-prod-names-are-unique"),
        match="uq_sources_name|sources.name",
    )


def test_foreign_keys_are_enforced(reject: Reject, db_session: Session) -> None:
    def orphan() -> None:
        db_session.add(Snapshot(source_id=987_654))
        db_session.flush()

    reject(orphan, match="FOREIGN KEY|foreign key")


# ---------------------------------------------------------------------- UTCDateTime


def test_naive_datetime_is_refused(db_session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db_session.begin_nested():
        SnapshotFactory(started_at=datetime(2025, 3, 12, 3, 30))


def test_naive_datetime_is_refused_by_the_type() -> None:
    dialect = current_session().get_bind().dialect
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2025, 1, 1), dialect)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=10), timedelta(hours=-5, minutes=-30)], ids=["+10:00", "-05:30"]
)
def test_aware_non_utc_datetime_comes_back_as_the_same_instant_in_utc(
    db_session: Session, offset: timedelta
) -> None:
    local = datetime(2025, 3, 12, 9, 15, 30, 123456, tzinfo=timezone(offset))
    snapshot = SnapshotFactory(started_at=local, finished_at=None, merged_at=None)
    key = snapshot.id
    db_session.expunge_all()

    loaded = db_session.get(Snapshot, key)
    assert loaded is not None
    assert loaded.started_at == local
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.started_at.replace(tzinfo=None) == (local - offset).replace(tzinfo=None)
    # Comparisons bind through the type too: the local value finds the row.
    found = db_session.scalars(select(Snapshot.id).where(Snapshot.started_at == local)).all()
    assert found == [key]
    as_utc = local.astimezone(UTC)
    assert db_session.scalars(select(Snapshot.id).where(Snapshot.started_at == as_utc)).all() == [
        key
    ]
