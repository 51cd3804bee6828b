"""What the checker may not assume: a superseded patch is covered only by a successor that is
on the same system, unknown vendor severity stays visible, an exploit listed after an install
does not make that install late, and the internet-facing class needs configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from estate import NOW, WINDOWS_CU, Estate
from factories import KnownExploitedVulnerabilityFactory, PatchVulnerabilityFactory
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.analyse import ComplianceChecker, ComplianceConfig, InternetFacing
from pmp_intel.store import models as m
from pmp_intel.store.models import ControlOutcome

EFFECTIVE = ControlOutcome.EFFECTIVE
INEFFECTIVE = ControlOutcome.INEFFECTIVE
NO_VISIBILITY = ControlOutcome.NO_VISIBILITY
NOT_APPLICABLE = ControlOutcome.NOT_APPLICABLE
OS = "patch_operating_systems"
SERVER_OS = "Windows Server 2022 Standard Edition (x64)"


def evaluate(bind: sessionmaker[Session], estate: Estate, **config: object) -> object:
    config.setdefault("internet_facing", InternetFacing(name_patterns=["WEB-*"]))
    checker = ComplianceChecker(bind, config=ComplianceConfig(**config))
    return checker.evaluate(estate.snapshot.id)


# --------------------------------------------------------------------------- superseded


def superseded_estate(successor_state: int | None) -> tuple[Estate, m.Patch, m.Patch]:
    """An internet-facing server missing a critical OS patch for 28 days past its 48 h
    deadline; PMP marks it superseded by a newer patch, which is on the server in
    ``successor_state`` (None: the successor has no pair there)."""
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    newer = estate.patch(WINDOWS_CU, released_days_ago=10, severity=4)
    older = estate.patch(
        WINDOWS_CU,
        released_days_ago=30,
        severity=4,
        is_superseded=True,
        superseded_by=str(newer.patch_id),
    )
    estate.state(web, older, status=202)
    if successor_state == 201:
        estate.state(web, newer, installed_after=timedelta(hours=24))
    elif successor_state is not None:
        estate.state(web, newer, status=successor_state)
    # another server has the successor: it must not cover WEB-01
    estate.state(
        estate.system("WEB-02", os_name=SERVER_OS), newer, installed_after=timedelta(hours=24)
    )
    return estate, older, newer


def test_a_superseded_missing_patch_without_its_successor_on_the_system_is_judged(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate, older, _ = superseded_estate(None)

    report = evaluate(bind, estate)

    control = report.control("ISM-1877")
    assert (control.outcome, control.violations) == (INEFFECTIVE, 1)
    assert [s.name for s in control.worst_systems] == ["WEB-01"]
    assert [p.id for p in control.worst_patches] == [older.patch_id]
    assert control.extra["superseded_skipped"] == 0
    assert report.strategy(OS).maturity_level == 0


def test_a_superseded_missing_patch_is_covered_by_its_installed_successor(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate, _, _ = superseded_estate(201)

    control = evaluate(bind, estate).control("ISM-1877")

    assert (control.outcome, control.violations, control.compliant) == (EFFECTIVE, 0, 2)
    assert control.extra["superseded_skipped"] == 1


def test_a_missing_successor_is_judged_in_place_of_the_superseded_patch(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    """The successor (released 10 days ago) is missing too: its own pair is overdue."""
    estate, _, newer = superseded_estate(202)

    control = evaluate(bind, estate).control("ISM-1877")

    assert (control.outcome, control.violations) == (INEFFECTIVE, 1)
    assert [p.id for p in control.worst_patches] == [newer.patch_id]
    assert control.extra["superseded_skipped"] == 1


def test_superseded_patches_are_counted_when_configured_so(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate, _, _ = superseded_estate(201)

    control = evaluate(bind, estate, ignore_superseded_missing=False).control("ISM-1877")

    assert (control.violations, control.extra["superseded_skipped"]) == (1, 0)


def test_an_unrated_superseded_pair_covered_by_its_successor_is_left_to_the_successor(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    """The successor is rated non-critical and installed in time: nothing is triggered, and
    the covered unrated pair does not make the 48 h control blind."""
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    newer = estate.patch(WINDOWS_CU, released_days_ago=10, severity=3)
    older = estate.patch(
        WINDOWS_CU, severity=0, is_superseded=True, superseded_by=str(newer.patch_id)
    )
    estate.state(web, older, status=202)
    estate.state(web, newer, installed_after=timedelta(days=2))

    report = evaluate(bind, estate)

    assert report.control("ISM-1877").outcome is NOT_APPLICABLE
    two_weeks = report.control("ISM-1694")
    assert (two_weeks.outcome, two_weeks.compliant, two_weeks.extra["superseded_skipped"]) == (
        EFFECTIVE,
        1,
        1,
    )


# ---------------------------------------------------------------------------- unrated


@pytest.mark.parametrize("known_critical", [False, True])
def test_unrated_pairs_are_no_visibility_in_criticality_triggered_controls(
    bind: sessionmaker[Session], factory_session: Session, known_critical: bool
) -> None:
    """An unrated OS patch applied after 10 days would be late if the vendor called it
    critical: one known-critical pair applied in time must not hide that."""
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    estate.state(web, estate.patch(WINDOWS_CU, severity=0), installed_after=timedelta(days=10))
    if known_critical:
        critical = estate.patch(WINDOWS_CU, severity=4)
        estate.state(web, critical, installed_after=timedelta(hours=24))

    report = evaluate(bind, estate)

    control = report.control("ISM-1877")
    assert control.outcome is NO_VISIBILITY
    assert (control.no_visibility, control.compliant) == (1, int(known_critical))
    assert control.extra["unrated_no_visibility"] == 1
    assert "unrated" in control.reason
    assert report.control("ISM-1694").outcome is EFFECTIVE  # judged as non-critical there
    assert report.strategy(OS).maturity_level == 0


def test_unrated_pairs_within_the_visibility_threshold_do_not_block(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    estate.state(web, estate.patch(WINDOWS_CU, severity=0), installed_after=timedelta(days=10))
    critical = estate.patch(WINDOWS_CU, severity=4)
    estate.state(web, critical, installed_after=timedelta(hours=24))

    lenient = evaluate(bind, estate, min_visibility_pct=50.0).control("ISM-1877")
    as_critical = evaluate(bind, estate, unrated_is_critical=True).control("ISM-1877")

    assert (lenient.outcome, lenient.no_visibility) == (EFFECTIVE, 1)
    assert (as_critical.outcome, as_critical.violations) == (INEFFECTIVE, 1)


def test_unrated_pairs_do_not_matter_to_exploit_only_or_severity_tier_rules(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    estate.state(web, estate.patch(WINDOWS_CU, severity=0), installed_after=timedelta(days=10))
    critical = estate.patch(WINDOWS_CU, severity=4)
    estate.state(web, critical, installed_after=timedelta(hours=24))
    facing = InternetFacing(name_patterns=["WEB-*"])
    config = ComplianceConfig(internet_facing=facing)

    legacy = ComplianceChecker(bind, profile="legacy-sla", config=config)
    tiers = [c for c in legacy.evaluate(estate.snapshot.id).controls if c.strategy == OS]
    exploit_only = ComplianceChecker(bind, profile="e8-2021", config=config)
    services = exploit_only.evaluate(estate.snapshot.id).control("ISM-1694")

    assert all(c.extra["unrated_no_visibility"] == 0 for c in tiers)
    assert {c.control_id: c.outcome for c in tiers}["LEGACY-CRITICAL-48H"] is EFFECTIVE
    assert (services.outcome, services.compliant, services.no_visibility) == (EFFECTIVE, 2, 0)


# ------------------------------------------------------------------------------ KEV


def listed(estate: Estate, patch: m.Patch, added_days_ago: float) -> None:
    PatchVulnerabilityFactory(
        valid_from_snapshot=estate.snapshot, cve_id="CVE-2025-0001", patch_id=patch.patch_id
    )
    KnownExploitedVulnerabilityFactory(
        cve_id="CVE-2025-0001", date_added=(NOW - timedelta(days=added_days_ago)).date()
    )


def test_an_exploit_listed_after_the_install_does_not_make_it_late(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    """Released 60 days ago, installed after 10 days (on time for two weeks), listed in KEV
    20 days ago: the install is judged as it stood then."""
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    cu = estate.patch(WINDOWS_CU, released_days_ago=60, severity=3)
    estate.state(web, cu, installed_after=timedelta(days=10))
    listed(estate, cu, added_days_ago=20)

    report = evaluate(bind, estate)

    assert report.control("ISM-1877").outcome is NOT_APPLICABLE
    two_weeks = report.control("ISM-1694")
    assert (two_weeks.outcome, two_weeks.compliant) == (EFFECTIVE, 1)
    assert report.strategy(OS).maturity_level == 3


def test_an_exploit_listed_before_the_install_counts(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    web = estate.system("WEB-01", os_name=SERVER_OS)
    cu = estate.patch(WINDOWS_CU, released_days_ago=60, severity=3)
    estate.state(web, cu, installed_after=timedelta(days=10))
    listed(estate, cu, added_days_ago=55)  # five days after release, before the install

    control = evaluate(bind, estate).control("ISM-1877")

    assert (control.outcome, control.violations) == (INEFFECTIVE, 1)


def test_a_missing_patch_counts_an_exploit_listed_by_the_snapshot(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    """Still missing: the exploit known at the snapshot puts it on the 48 h clock, and the
    same patch installed on another system before the listing stays on two weeks."""
    estate = Estate.create()
    cu = estate.patch(WINDOWS_CU, released_days_ago=60, severity=3)
    estate.state(estate.system("WEB-01", os_name=SERVER_OS), cu, status=202)
    estate.state(estate.system("WEB-02", os_name=SERVER_OS), cu, installed_after=timedelta(days=10))
    listed(estate, cu, added_days_ago=20)

    report = evaluate(bind, estate)

    critical = report.control("ISM-1877")
    assert (critical.outcome, critical.violations) == (INEFFECTIVE, 1)
    assert [s.name for s in critical.worst_systems] == ["WEB-01"]
    assert report.control("ISM-1694").compliant == 1
