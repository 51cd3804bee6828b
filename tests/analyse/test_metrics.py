"""MetricsCalculator on a hand-built estate: every figure is computed by hand below."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from estate import CHROME, DELL_BIOS, INTEL_DRIVER, NOW, SEVEN_ZIP, WINDOWS_CU, WORD, Estate
from factories import (
    KnownExploitedVulnerabilityFactory,
    PatchVulnerabilityFactory,
    ServerSummaryFactory,
    SnapshotFactory,
    SystemPatchStateFactory,
    VulnerabilityFactory,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.analyse import MetricsCalculator, compare_with_summary
from pmp_intel.analyse.errors import MetricsNotComputedError, SnapshotNotFoundError
from pmp_intel.settings import Settings
from pmp_intel.store.models import (
    PatchMetric,
    SeverityMetric,
    SystemHealthMetric,
    TimeToPatchMetric,
    VulnerabilityMetric,
)

METRIC_TABLES = (
    PatchMetric,
    SeverityMetric,
    SystemHealthMetric,
    VulnerabilityMetric,
    TimeToPatchMetric,
)


@pytest.fixture
def estate(factory_session: Session) -> Estate:
    """Three systems, six patches, nine pairs.

    =========  ====================  =========================  =====================
    system     org / OS              pairs                      health / live / scan
    =========  ====================  =========================  =====================
    WS-1       Sydney / Windows 11   CU 201 @10h, Chrome 201    healthy, live, ok,
                                     @30h, Word 202, 7-Zip 206  contact 1 h ago
    WS-2       Sydney / Windows 11   CU 201 @20h, Chrome 202,   vulnerable, down,
                                     driver 201 @50h            failed, contact 40 d
    SRV-1      Perth / Server 2022   CU 202, BIOS 201 (no       NULL health/live/scan,
                                     install time)              no contact recorded
    =========  ====================  =========================  =====================
    """
    e = Estate.create(baseline=False, db_age_hours=None)
    ws1 = e.system(
        "WS-1",
        branch_office_name="Sydney",
        resource_health_status=1,
        computer_live_status=1,
        scan_status=228,
    )
    ws2 = e.system(
        "WS-2",
        branch_office_name="Sydney",
        resource_health_status=2,
        computer_live_status=2,
        scan_status=226,
        agent_last_contact_time=NOW - timedelta(days=40),
    )
    srv = e.system(
        "SRV-1",
        os_name="Windows Server 2022 Standard Edition (x64)",
        branch_office_name="Perth",
        resource_health_status=None,
        computer_live_status=None,
        scan_status=None,
        agent_last_contact_time=None,
    )
    cu = e.patch(WINDOWS_CU, severity=4)
    chrome = e.patch(CHROME, severity=3)
    word = e.patch(WORD, severity=2)
    seven = e.patch(SEVEN_ZIP, severity=0)
    driver = e.patch(INTEL_DRIVER, severity=1, update_name="Driver Updates")
    bios = e.patch(DELL_BIOS, severity=2)
    e.state(ws1, cu, installed_after=timedelta(hours=10))
    e.state(ws1, chrome, installed_after=timedelta(hours=30))
    e.state(ws1, word, status=202)
    e.state(ws1, seven, status=206)
    e.state(ws2, cu, installed_after=timedelta(hours=20))
    e.state(ws2, chrome, status=202)
    e.state(ws2, driver, installed_after=timedelta(hours=50))
    e.state(srv, cu, status=202)
    e.state(srv, bios, status=201)
    e.cu, e.chrome, e.word, e.seven = cu, chrome, word, seven  # type: ignore[attr-defined]
    return e


def calculator(bind: sessionmaker[Session], stale_days: int = 30) -> MetricsCalculator:
    return MetricsCalculator(bind, Settings(stale_agent_days=stale_days))


def test_patch_figures_by_scope(bind: sessionmaker[Session], estate: Estate) -> None:
    m = calculator(bind).calculate(estate.snapshot.id)

    total = m.patch_total
    assert (
        total.applicable_pairs,
        total.installed_pairs,
        total.missing_pairs,
        total.failed_pairs,
    ) == (9, 5, 3, 1)
    # CU, Chrome, Word, 7-Zip missing/failed somewhere; driver and BIOS installed everywhere
    assert (
        total.applicable_patches,
        total.installed_patches,
        total.missing_patches,
        total.failed_patches,
        total.systems,
    ) == (6, 2, 4, 1, 3)
    os_row = m.patch("category", "os")
    assert os_row is not None
    assert (os_row.applicable_pairs, os_row.missing_pairs, os_row.systems) == (3, 1, 3)
    third = m.patch("category", "third_party")
    assert third is not None
    assert (third.applicable_pairs, third.applicable_patches, third.systems) == (3, 2, 2)
    assert m.patch("category", "microsoft_application").applicable_pairs == 1  # type: ignore[union-attr]
    assert m.patch("category", "driver").installed_pairs == 1  # type: ignore[union-attr]
    assert m.patch("category", "bios").installed_patches == 1  # type: ignore[union-attr]
    security = m.patch("security", "security")
    non_security = m.patch("security", "non_security")
    assert security is not None
    assert non_security is not None
    # 7-Zip: "Third Party Updates" and unrated -> non-security; the driver is rated -> security
    assert (security.applicable_pairs, non_security.applicable_pairs) == (8, 1)
    assert m.patch("platform", "windows").applicable_pairs == 9  # type: ignore[union-attr]


def test_severity_buckets_sum_to_totals(bind: sessionmaker[Session], estate: Estate) -> None:
    s = calculator(bind).calculate(estate.snapshot.id).severity_total

    assert (
        s.missing_critical,
        s.missing_important,
        s.missing_moderate,
        s.missing_low,
        s.missing_unrated,
        s.missing_total,
    ) == (1, 1, 1, 0, 0, 3)
    assert (s.failed_unrated, s.failed_total) == (1, 1)
    assert (
        s.missing_patches_critical,
        s.missing_patches_important,
        s.missing_patches_moderate,
        s.missing_patches_unrated,
        s.missing_patches_total,
    ) == (1, 1, 1, 1, 4)


def test_health_by_organisation_and_os(bind: sessionmaker[Session], estate: Estate) -> None:
    m = calculator(bind).calculate(estate.snapshot.id)

    h = m.health_total
    assert (h.total_systems, h.healthy, h.vulnerable, h.highly_vulnerable, h.health_unknown) == (
        3,
        1,
        1,
        0,
        1,
    )
    assert (h.live, h.down, h.live_unknown) == (1, 1, 1)
    assert (h.scan_succeeded, h.scan_failed, h.scan_in_progress, h.not_scanned) == (1, 1, 0, 1)
    assert h.stale_agents == 2  # WS-2 (40 days) and SRV-1 (never)
    sydney = m.health_of("organisation", "Sydney")
    assert sydney is not None
    assert (sydney.total_systems, sydney.down) == (2, 1)
    server = m.health_of("os", "Windows Server 2022 Standard Edition (x64)")
    assert server is not None
    assert server.health_unknown == 1
    assert (
        calculator(bind, stale_days=60).calculate(estate.snapshot.id).health_total.stale_agents == 1
    )


def test_time_to_patch_from_release_to_install(bind: sessionmaker[Session], estate: Estate) -> None:
    m = calculator(bind).calculate(estate.snapshot.id)

    critical = m.ttp(4)
    assert critical is not None
    assert (critical.samples, critical.mean_hours, critical.median_hours, critical.p90_hours) == (
        2,
        15.0,
        10.0,
        20.0,
    )
    everything = m.ttp(None)
    assert everything is not None
    # 10, 20 (CU), 30 (Chrome), 50 (driver); BIOS has no install time
    assert (
        everything.samples,
        everything.mean_hours,
        everything.median_hours,
        everything.p90_hours,
    ) == (4, 27.5, 20.0, 50.0)
    unrated = m.ttp(0)
    assert unrated is not None
    assert (unrated.samples, unrated.mean_hours) == (0, None)


def test_vulnerability_exposure_and_known_exploited(
    bind: sessionmaker[Session], estate: Estate
) -> None:
    snap = estate.snapshot
    for cve, score, patch in (
        ("CVE-2025-0001", 9.8, estate.cu),
        ("CVE-2025-0002", 6.5, estate.chrome),
        ("CVE-2025-0003", 4.0, estate.cu),
    ):
        VulnerabilityFactory(valid_from_snapshot=snap, cve_id=cve, cvss_score=score)
        PatchVulnerabilityFactory(valid_from_snapshot=snap, cve_id=cve, patch_id=patch.patch_id)
    # a second patch fixing CVE-2025-0002, also missing on WS-2: two pairs, one system
    PatchVulnerabilityFactory(
        valid_from_snapshot=snap, cve_id="CVE-2025-0002", patch_id=estate.word.patch_id
    )
    SystemPatchStateFactory(
        valid_from_snapshot=snap,
        resource_id=estate.systems["WS-2"].resource_id,
        patch_id=estate.word.patch_id,
        install_status=202,
    )
    KnownExploitedVulnerabilityFactory(cve_id="CVE-2025-0001", date_added=NOW.date())
    KnownExploitedVulnerabilityFactory(
        cve_id="CVE-2025-0003", date_added=NOW.date() + timedelta(days=1)
    )

    m = calculator(bind).calculate(snap.id)

    v = m.vulnerability_total
    # exposed pairs: CU on SRV-1, Chrome on WS-2, Word on WS-1 and WS-2
    assert (v.cves_exposed, v.pairs_exposed, v.systems_exposed) == (3, 4, 3)
    assert v.known_exploited_cves == 1  # CVE-2025-0003 was added after the snapshot
    assert (v.max_cvss, v.mean_cvss) == (9.8, round((9.8 + 6.5 + 4.0) / 3, 4))
    per_cve = {r.scope_value: r for r in m.vulnerabilities if r.scope == "cve"}
    assert (per_cve["CVE-2025-0002"].pairs_exposed, per_cve["CVE-2025-0002"].systems_exposed) == (
        3,
        2,
    )
    assert per_cve["CVE-2025-0001"].known_exploited_cves == 1


def test_recomputation_replaces_and_reads_back(
    bind: sessionmaker[Session], estate: Estate, factory_session: Session
) -> None:
    calc = calculator(bind)
    first = calc.calculate(estate.snapshot.id)
    def count(table: Any) -> int:  # this snapshot's rows (other tests' snapshots may exist)
        return int(
            factory_session.execute(
                select(func.count())
                .select_from(table)
                .where(table.snapshot_id == estate.snapshot.id)
            ).scalar_one()
        )

    counts = [count(t) for t in METRIC_TABLES]
    second = calc.calculate(estate.snapshot.id)

    assert second == first
    assert [count(t) for t in METRIC_TABLES] == counts
    assert calc.get(estate.snapshot.id) == first
    assert counts[0] == len(first.patches) > 4


def test_history_state_at_the_snapshot_not_later_rows(
    bind: sessionmaker[Session], estate: Estate
) -> None:
    later = SnapshotFactory(source=estate.source, started_at=NOW + timedelta(days=1))
    ws1 = estate.systems["WS-1"].resource_id
    SystemPatchStateFactory(
        valid_from_snapshot=later, resource_id=ws1, patch_id=999_999, install_status=202
    )

    assert calculator(bind).calculate(estate.snapshot.id).patch_total.applicable_pairs == 9
    assert calculator(bind).calculate(later.id).patch_total.applicable_pairs == 10


def test_deltas_against_the_previous_snapshot_with_metrics(
    bind: sessionmaker[Session], estate: Estate
) -> None:
    calc = calculator(bind)
    calc.calculate(estate.snapshot.id)
    later = SnapshotFactory(source=estate.source, started_at=NOW + timedelta(days=1))
    SystemPatchStateFactory(
        valid_from_snapshot=later,
        resource_id=estate.systems["WS-1"].resource_id,
        patch_id=999_999,
        install_status=202,
    )
    calc.calculate(later.id)

    deltas = calc.deltas(later.id)

    assert deltas.previous_snapshot_id == estate.snapshot.id
    assert deltas["patches.missing_pairs"].change == 1
    assert deltas["patches.installed_pairs"].change == 0
    assert deltas["severity.missing_unrated"].change == 1  # unknown patch: unrated
    first = calc.deltas(estate.snapshot.id)
    assert first.previous_snapshot_id is None
    assert first["patches.missing_pairs"].change is None
    assert [
        m.snapshot_id for m in calc.between(estate.source.id, NOW, NOW + timedelta(days=2))
    ] == [estate.snapshot.id, later.id]
    assert (
        calc.between(estate.source.id, NOW + timedelta(hours=1), NOW + timedelta(days=2))[
            0
        ].snapshot_id
        == later.id
    )


def test_deltas_need_stored_metrics(bind: sessionmaker[Session], estate: Estate) -> None:
    with pytest.raises(MetricsNotComputedError, match="calculate"):
        calculator(bind).deltas(estate.snapshot.id)
    assert calculator(bind).get(estate.snapshot.id) is None
    with pytest.raises(SnapshotNotFoundError):
        calculator(bind).calculate(987_654)


def test_metrics_agree_with_a_hand_built_server_summary(
    bind: sessionmaker[Session], estate: Estate
) -> None:
    summary = ServerSummaryFactory(
        snapshot=estate.snapshot,
        installed_patches=2,
        applicable_patches=6,
        missing_patches=4,
        missing_critical=1,
        missing_important=1,
        missing_moderate=1,
        missing_low=0,
        missing_unrated=1,
        missing_total=4,
        total_systems=3,
        healthy_systems=1,
        moderately_vulnerable_systems=1,
        highly_vulnerable_systems=0,
        health_unknown_systems=1,
        scanned_systems=2,
        unscanned_systems=1,
        scan_success_count=1,
        scan_failure_count=1,
    )
    metrics = calculator(bind).calculate(estate.snapshot.id)

    assert compare_with_summary(metrics, summary) == []
    summary.missing_critical = 5
    assert [(d.name, d.computed, d.server) for d in compare_with_summary(metrics, summary)] == [
        ("missing_critical", 1, 5)
    ]


def test_an_engine_works_as_well_as_a_sessionmaker(engine: object, backend: str) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with pytest.raises(SnapshotNotFoundError, match="does not exist"):
        MetricsCalculator(engine, Settings()).calculate(10**12)
