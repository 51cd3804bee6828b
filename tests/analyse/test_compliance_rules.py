"""The rules the issue pins, each on a hand-built estate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from estate import CHROME, NOW, SEVEN_ZIP, WINDOWS_CU, WORD, Estate
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.analyse import ComplianceChecker, ComplianceConfig, InternetFacing
from pmp_intel.store.models import ComplianceCheck, ControlOutcome

EFFECTIVE = ControlOutcome.EFFECTIVE
INEFFECTIVE = ControlOutcome.INEFFECTIVE
NO_VISIBILITY = ControlOutcome.NO_VISIBILITY
NOT_APPLICABLE = ControlOutcome.NOT_APPLICABLE
APPS = "patch_applications"
OS = "patch_operating_systems"

WEB_FACING = ComplianceConfig(internet_facing=InternetFacing(name_patterns=["WEB-*"]))
#: The estate deliberately has no internet-facing system (tests of the other rules use it, so
#: that the internet-facing controls are not applicable instead of without visibility).
NO_INTERNET = ComplianceConfig(internet_facing=InternetFacing(none=True))


def check(
    bind: sessionmaker[Session],
    estate: Estate,
    config: ComplianceConfig | None = None,
    profile: str = "e8-2023-11",
) -> object:
    return ComplianceChecker(bind, profile=profile, config=config or NO_INTERNET).evaluate(
        estate.snapshot.id
    )


def test_browser_patch_at_13_days_is_compliant_at_ml1_and_violates_at_ml3_when_critical(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, released_days_ago=20, severity=4)
    estate.state(estate.system("WS-0001"), chrome, installed_after=timedelta(days=13))

    report = check(bind, estate)

    two_weeks = report.control("ISM-1691", level=1)
    assert (two_weeks.outcome, two_weeks.compliant, two_weeks.violations) == (EFFECTIVE, 1, 0)
    assert report.control("ISM-1691", level=2).outcome is EFFECTIVE
    critical = report.control("ISM-1692", level=3)
    assert (critical.outcome, critical.violations, critical.pct_compliant) == (INEFFECTIVE, 1, 0.0)
    assert [s.name for s in critical.worst_systems] == ["WS-0001"]
    assert report.control("ISM-1901", level=3).outcome is NOT_APPLICABLE
    assert report.strategy(APPS).maturity_level == 2
    assert report.strategy(APPS).blocking == ("ISM-1692",)


def test_the_same_browser_patch_when_not_critical_is_compliant_at_ml3(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, released_days_ago=20, severity=3)
    estate.state(estate.system("WS-0001"), chrome, installed_after=timedelta(days=13))

    report = check(bind, estate)

    assert report.control("ISM-1901", level=3).outcome is EFFECTIVE
    assert report.control("ISM-1692", level=3).outcome is NOT_APPLICABLE
    assert report.strategy(APPS).maturity_level == 3


def test_internet_facing_server_critical_os_patch_at_50_hours_violates_at_every_level(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    cu = estate.patch(WINDOWS_CU, released_days_ago=20, severity=4)
    web = estate.system("WEB-01", os_name="Windows Server 2022 Standard Edition (x64)")
    estate.state(web, cu, installed_after=timedelta(hours=50))

    report = check(bind, estate, WEB_FACING)

    for level in (1, 2, 3):
        control = report.control("ISM-1877", level=level)
        assert (control.outcome, control.violations, control.systems_in_scope) == (
            INEFFECTIVE,
            1,
            1,
        )
    assert report.strategy(OS).maturity_level == 0
    assert report.strategy(OS).blocking == ("ISM-1877",)


def test_the_same_install_at_47_hours_is_compliant(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    cu = estate.patch(WINDOWS_CU, released_days_ago=20, severity=4)
    web = estate.system("WEB-01", os_name="Windows Server 2022 Standard Edition (x64)")
    estate.state(web, cu, installed_after=timedelta(hours=47))

    report = check(bind, estate, WEB_FACING)

    assert report.control("ISM-1877", level=1).outcome is EFFECTIVE
    assert report.strategy(OS).maturity_level == 3


def test_other_applications_are_out_of_scope_at_ml1(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    ws = estate.system("WS-0001")
    estate.state(ws, estate.patch(CHROME, severity=3), installed_after=timedelta(days=3))
    estate.state(ws, estate.patch(SEVEN_ZIP, severity=3, released_days_ago=90), status=202)

    report = check(bind, estate)

    other = report.control("ISM-1693")
    assert other.levels == (2, 3)
    assert (other.outcome, other.violations) == (INEFFECTIVE, 1)
    assert all(
        1 not in c.levels for c in report.controls if "apps_other" in c.extra.get("scopes", [])
    )
    assert report.strategy(APPS).maturity_level == 1
    assert report.strategy(APPS).blocking == ("ISM-1693",)


def test_no_qualifying_data_gives_no_visibility_never_100_percent(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create(baseline=False)
    ws = estate.system("WS-0001")
    estate.state(ws, estate.patch(WORD, released_days_ago=None), status=202)
    estate.state(ws, estate.patch(WINDOWS_CU, released_days_ago=None), status=201)

    report = check(bind, estate)

    for control_id in ("ISM-1691", "ISM-1695"):
        control = report.control(control_id, level=1)
        assert control.outcome is NO_VISIBILITY
        assert control.pct_compliant is None
        assert control.no_visibility == 1
    assert report.strategy(APPS).maturity_level == 0


def test_an_empty_estate_is_no_visibility_not_compliant(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create(baseline=False)

    report = check(bind, estate)

    assert report.control("ISM-1691", level=1).outcome is NO_VISIBILITY
    assert report.control("ISM-1695", level=1).outcome is NOT_APPLICABLE
    assert report.strategy(APPS).maturity_level == 0


INTERNET_CONTROLS = ("ISM-1877", "ISM-1694", "ISM-1701", "ISM-1876", "ISM-1690", "ISM-1698")


def test_internet_facing_controls_are_not_applicable_when_declared_absent(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    estate.state(estate.system("WEB-01"), estate.patch(WINDOWS_CU), installed_after=timedelta(1))

    report = check(bind, estate, NO_INTERNET)

    for control_id in INTERNET_CONTROLS:
        control = report.control(control_id)
        assert control.outcome is NOT_APPLICABLE, control_id
        assert "none = true" in control.reason
    assert report.strategy(OS).maturity_level == 3


@pytest.mark.parametrize(
    ("facing", "hint"),
    [
        (InternetFacing(), "PMP does not record which systems are internet-facing"),
        (InternetFacing(name_patterns=["DMZ-*"]), "no system matches the [internet_facing] rules"),
    ],
)
def test_internet_facing_controls_have_no_visibility_unless_declared(
    bind: sessionmaker[Session], factory_session: Session, facing: InternetFacing, hint: str
) -> None:
    """PMP has no internet-facing flag (reference §6): without configuration the tool cannot
    see these controls' asset class, which is no visibility, not "not applicable"."""
    estate = Estate.create()
    estate.state(
        estate.system("WEB-01", os_name="Windows Server 2022 Standard Edition (x64)"),
        estate.patch(WINDOWS_CU, released_days_ago=25, severity=4),
        installed_after=timedelta(days=20),
    )

    report = check(bind, estate, ComplianceConfig(internet_facing=facing))

    for control_id in INTERNET_CONTROLS:
        control = report.control(control_id)
        assert control.outcome is NO_VISIBILITY, control_id
        assert hint in control.reason
        assert "none = true" in control.reason
    assert report.strategy(OS).maturity_level == 0
    assert {"ISM-1877", "ISM-1694", "ISM-1701"} <= set(report.strategy(OS).blocking)
    assert report.strategy(APPS).maturity_level == 0


def test_none_with_rules_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="none = true"):
        InternetFacing(none=True, name_patterns=["WEB-*"])


def test_missing_within_window_is_not_yet_due_and_past_it_is_overdue(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    ws = estate.system("WS-0001")
    fresh = estate.patch(WORD, released_days_ago=5, severity=3)
    stale = estate.patch(CHROME, released_days_ago=16, severity=3)
    estate.state(ws, fresh, status=202)
    estate.state(ws, stale, status=206)

    control = check(bind, estate).control("ISM-1691", level=1)

    assert (control.not_yet_due, control.violations, control.pairs_in_scope) == (1, 1, 2)
    assert control.oldest_overdue_time == NOW - timedelta(days=16) + timedelta(days=14)
    assert control.pct_compliant == 50.0
    assert [p.name for p in control.worst_patches] == [CHROME["patch_description"]]


def test_reboot_pending_install_is_not_applied(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    chrome = estate.patch(CHROME, released_days_ago=20, severity=3)
    estate.state(
        estate.system("WS-0001"), chrome, installed_after=timedelta(days=1), deployment_status=207
    )

    control = check(bind, estate).control("ISM-1691", level=1)

    assert (control.violations, control.compliant) == (1, 0)


def test_results_are_stored_once_per_control_and_level_and_recomputation_replaces_them(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    estate = Estate.create()
    estate.state(estate.system("WS-0001"), estate.patch(CHROME), installed_after=timedelta(3))
    checker = ComplianceChecker(bind, config=ComplianceConfig())

    first = checker.evaluate(estate.snapshot.id)
    count = (
        select(func.count())
        .select_from(ComplianceCheck)
        .where(ComplianceCheck.snapshot_id == estate.snapshot.id)
    )
    stored = factory_session.execute(count).scalar_one()
    checker.evaluate(estate.snapshot.id)

    assert stored == sum(len(c.levels) for c in first.controls)
    assert factory_session.execute(count).scalar_one() == stored
    row = factory_session.execute(
        select(ComplianceCheck).where(
            ComplianceCheck.snapshot_id == estate.snapshot.id,
            ComplianceCheck.control_id == "ISM-1692",
        )
    ).scalar_one()
    assert (row.maturity_level, row.outcome, row.violations) == (3, "ineffective", 1)
    assert row.details["worst_systems"][0]["name"] == "WS-0001"


@pytest.mark.parametrize(("installed_days", "expected"), [(13, EFFECTIVE), (15, INEFFECTIVE)])
def test_two_weeks_window_edge(
    bind: sessionmaker[Session],
    factory_session: Session,
    installed_days: int,
    expected: ControlOutcome,
) -> None:
    estate = Estate.create()
    estate.state(
        estate.system("WS-0001"),
        estate.patch(WORD, severity=3),
        installed_after=timedelta(days=installed_days),
    )

    assert check(bind, estate).control("ISM-1691", level=1).outcome is expected
