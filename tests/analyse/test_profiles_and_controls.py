"""Named profiles, exploit/KEV triggers, scan cadence, discovery, database freshness,
threshold mode, attestations and the trend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from estate import CHROME, NOW, WINDOWS_CU, WORD, Estate
from factories import KnownExploitedVulnerabilityFactory, PatchVulnerabilityFactory, SnapshotFactory
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.analyse import (
    PROFILES,
    ComplianceChecker,
    ComplianceConfig,
    InternetFacing,
    get_profile,
)
from pmp_intel.analyse.errors import UnknownProfileError
from pmp_intel.analyse.profiles import Kind
from pmp_intel.store.models import ControlOutcome

EFFECTIVE = ControlOutcome.EFFECTIVE
INEFFECTIVE = ControlOutcome.INEFFECTIVE
NO_VISIBILITY = ControlOutcome.NO_VISIBILITY
NOT_APPLICABLE = ControlOutcome.NOT_APPLICABLE
NOT_ASSESSED = ControlOutcome.NOT_ASSESSED


def evaluate(
    bind: sessionmaker[Session], estate: Estate, profile: str = "e8-2023-11", **config: object
) -> object:
    # by default the estate deliberately has no internet-facing system
    config.setdefault("internet_facing", InternetFacing(none=True))
    checker = ComplianceChecker(bind, profile=profile, config=ComplianceConfig(**config))
    return checker.evaluate(estate.snapshot.id)


def exploited(estate: Estate, patch: object, added_days_ago: float = 30) -> None:
    """A CVE of ``patch`` in the KEV catalogue, added ``added_days_ago`` before the snapshot
    (by default before the estate's patches were released)."""
    PatchVulnerabilityFactory(
        valid_from_snapshot=estate.snapshot, cve_id="CVE-2024-38193", patch_id=patch.patch_id
    )  # type: ignore[attr-defined]
    KnownExploitedVulnerabilityFactory(
        cve_id="CVE-2024-38193", date_added=(NOW - timedelta(days=added_days_ago)).date()
    )


def test_profiles_are_data_and_unknown_names_fail_clearly() -> None:
    assert set(PROFILES) == {"e8-2023-11", "e8-2021", "e8-2017", "legacy-sla"}
    nov_2023 = get_profile("e8-2023-11")
    assert {c.control_id for c in nov_2023.controls_at(1) if c.kind is Kind.TIMEFRAME} == {
        "ISM-1876",
        "ISM-1690",
        "ISM-1691",
        "ISM-1877",
        "ISM-1694",
        "ISM-1695",
    }
    assert {c.control_id for c in nov_2023.controls_at(3) if c.kind is Kind.TIMEFRAME} >= {
        "ISM-1692",
        "ISM-1901",
        "ISM-1693",
        "ISM-1696",
        "ISM-1902",
        "ISM-1879",
        "ISM-1903",
    }
    with pytest.raises(UnknownProfileError, match="e8-2023-11"):
        get_profile("e8-2099")


def test_exactly_48_hours_is_still_within_the_window(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    estate.state(
        estate.system("WS-1"), estate.patch(CHROME, severity=4), installed_after=timedelta(hours=48)
    )

    assert evaluate(bind, estate).control("ISM-1692").outcome is EFFECTIVE


def test_a_kev_listed_cve_triggers_48_hours_even_when_not_vendor_critical(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, severity=2)
    estate.state(estate.system("WS-1"), chrome, installed_after=timedelta(days=3))
    exploited(estate, chrome)

    assert evaluate(bind, estate).control("ISM-1692").violations == 1
    assert evaluate(bind, estate, use_kev=False).control("ISM-1692").outcome is NOT_APPLICABLE


def test_kev_entries_added_after_the_snapshot_do_not_count(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, severity=2)
    estate.state(estate.system("WS-1"), chrome, installed_after=timedelta(days=3))
    PatchVulnerabilityFactory(
        valid_from_snapshot=estate.snapshot, cve_id="CVE-2099-0001", patch_id=chrome.patch_id
    )
    KnownExploitedVulnerabilityFactory(cve_id="CVE-2099-0001", date_added=NOW.date() + timedelta(1))

    assert evaluate(bind, estate).control("ISM-1692").outcome is NOT_APPLICABLE


def test_2021_profile_uses_only_exploits_and_one_month_for_office_at_ml1(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    ws = estate.system("WS-1")
    critical_chrome = estate.patch(CHROME, severity=4)
    estate.state(ws, critical_chrome, installed_after=timedelta(days=3))
    word = estate.patch(WORD, severity=3, released_days_ago=40)
    estate.state(ws, word, installed_after=timedelta(days=20))

    report = evaluate(bind, estate, profile="e8-2021")

    assert report.control("ISM-1691", level=1).outcome is EFFECTIVE  # one month at ML1
    assert report.control("ISM-1691", level=2).violations == 1  # two weeks at ML2
    assert report.control("ISM-1692", level=3).outcome is NOT_APPLICABLE  # critical, no exploit
    assert report.strategy("patch_applications").maturity_level == 1


def test_2021_internet_facing_services_get_48_hours_only_with_an_exploit(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    web = estate.system("WEB-1", os_name="Windows Server 2022 Standard Edition (x64)")
    cu = estate.patch(WINDOWS_CU, severity=4)
    estate.state(web, cu, installed_after=timedelta(days=3))
    facing = {"internet_facing": InternetFacing(systems=["web-1"])}

    assert (
        evaluate(bind, estate, profile="e8-2021", **facing).control("ISM-1694").outcome is EFFECTIVE
    )
    exploited(estate, cu)
    report = evaluate(bind, estate, profile="e8-2021", **facing)
    control = report.control("ISM-1694")
    assert (control.outcome, control.window_hours, control.triggered_window_hours) == (
        INEFFECTIVE,
        14 * 24.0,
        48.0,
    )


def test_2017_profile_only_judges_extreme_risk_with_level_windows(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    ws = estate.system("WS-1")
    estate.state(ws, estate.patch(WINDOWS_CU, severity=4), installed_after=timedelta(days=10))
    estate.state(ws, estate.patch(WORD, severity=3, released_days_ago=90), status=202)

    report = evaluate(bind, estate, profile="e8-2017")

    os_levels = {lvl: report.control("E8-2017-OS", level=lvl).outcome for lvl in (1, 2, 3)}
    assert os_levels == {1: EFFECTIVE, 2: EFFECTIVE, 3: INEFFECTIVE}
    assert report.control("E8-2017-APPS", level=1).outcome is NOT_APPLICABLE  # Word: not extreme
    assert report.strategy("patch_operating_systems").maturity_level == 2


def test_legacy_sla_tiers_by_severity_and_is_not_a_maturity_model(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    ws = estate.system("WS-1")
    estate.state(ws, estate.patch(WINDOWS_CU, severity=4), installed_after=timedelta(hours=50))
    estate.state(ws, estate.patch(WORD, severity=3), installed_after=timedelta(days=10))

    report = evaluate(bind, estate, profile="legacy-sla")

    assert not report.is_maturity_model
    os_critical = next(
        c
        for c in report.controls
        if c.control_id == "LEGACY-CRITICAL-48H" and c.strategy == "patch_operating_systems"
    )
    assert (os_critical.outcome, os_critical.violations) == (INEFFECTIVE, 1)
    apps_high = next(
        c
        for c in report.controls
        if c.control_id == "LEGACY-HIGH-2W" and c.strategy == "patch_applications"
    )
    assert apps_high.outcome is EFFECTIVE


def test_scan_cadence_from_last_successful_scan(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    stale = estate.system("WS-1", last_successful_scan_time=NOW - timedelta(days=9))
    estate.state(stale, estate.patch(CHROME, severity=3), installed_after=timedelta(days=1))

    report = evaluate(bind, estate)

    weekly = report.control("ISM-1699")
    assert (weekly.outcome, weekly.systems_in_scope, weekly.violations) == (INEFFECTIVE, 1, 1)
    assert weekly.worst_systems[0].name == "WS-1"
    assert report.control("ISM-1702").outcome is EFFECTIVE  # fortnightly for workstation OS


def test_asset_discovery_needs_a_fortnight_of_history(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    short = Estate.create(history_days=None)
    assert evaluate(bind, short).control("ISM-1807").outcome is NO_VISIBILITY
    gappy = Estate.create(history_days=20)
    control = evaluate(bind, gappy).control("ISM-1807")
    assert (control.outcome, control.extra["max_gap_days"]) == (INEFFECTIVE, 20.0)
    steady = Estate.create(history_days=20)
    SnapshotFactory(source=steady.source, started_at=NOW - timedelta(days=10))
    assert evaluate(bind, steady).control("ISM-1807").outcome is EFFECTIVE


@pytest.mark.parametrize(
    ("age", "expected"), [(2, EFFECTIVE), (30, INEFFECTIVE), (None, NO_VISIBILITY)]
)
def test_vulnerability_database_freshness(
    bind: sessionmaker[Session],
    factory_session: Session,
    age: float | None,
    expected: ControlOutcome,
) -> None:
    estate = Estate.create(db_age_hours=age)
    assert evaluate(bind, estate).control("ISM-1808").outcome is expected


def test_unassessed_controls_are_listed_and_can_be_attested(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    report = evaluate(bind, estate)
    assert report.control("ISM-1501").outcome is NOT_ASSESSED
    assert report.strategy("patch_operating_systems").not_assessed == ("ISM-1501", "ISM-1407")

    attested = evaluate(bind, estate, attestations={"ISM-1501": "ineffective"})
    assert attested.control("ISM-1501").outcome is INEFFECTIVE
    assert attested.strategy("patch_operating_systems").maturity_level == 0


def test_threshold_mode_is_reported_separately_from_asds_rule(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, severity=3)
    for n in range(20):
        late = timedelta(days=16 if n == 0 else 1)
        estate.state(estate.system(f"WS-{n:02d}"), chrome, installed_after=late)

    strict = evaluate(bind, estate)
    lenient = evaluate(bind, estate, threshold_pct=95.0)

    control = lenient.control("ISM-1691")
    assert (control.outcome, control.pct_compliant, control.threshold_pass) == (
        INEFFECTIVE,
        95.0,
        True,
    )
    apps = lenient.strategy("patch_applications")
    assert (apps.maturity_level, apps.threshold_maturity_level) == (0, 3)
    assert strict.strategy("patch_applications").threshold_maturity_level is None
    assert any("NOT ASD's rule" in line for line in lenient.assumptions)


def test_trend_reads_stored_results_across_snapshots(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, severity=4)
    estate.state(estate.system("WS-1"), chrome, installed_after=timedelta(days=3))
    checker = ComplianceChecker(
        bind, config=ComplianceConfig(internet_facing=InternetFacing(none=True))
    )
    earlier = estate.history
    assert earlier is not None
    checker.evaluate(earlier.id)
    report = checker.evaluate(estate.snapshot.id)

    points = checker.trend(estate.source.id, NOW - timedelta(days=30), NOW)
    assert checker.trend(estate.source.id, NOW - timedelta(days=1), NOW)[0].snapshot_id == (
        estate.snapshot.id
    )
    assert [p.snapshot_id for p in points] == [earlier.id, estate.snapshot.id]
    assert points[-1].violations["patch_applications"] == 1
    assert (
        points[-1].maturity["patch_applications"]
        == report.strategy("patch_applications").maturity_level
        == 2
    )
    assert points[0].pct_compliant["patch_applications"] is None  # nothing there yet
    assert [p.snapshot_id for p in report.trend] == [earlier.id, estate.snapshot.id]
