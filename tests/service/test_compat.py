"""Backward compatibility: every legacy method with the legacy arguments and row keys."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from service_helpers import History, settings_for, simulated_now
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmp_intel.service import (
    BaseIntelligenceService,
    FreshnessInfo,
    PMPIntelligenceService,
    PMPQueryResult,
    QueryResult,
)
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import Snapshot, Source
from pmp_intel.testing import simulated_pmp

OLD_KEYS = {
    "get_systems_by_organization": {
        "name", "os", "health_status", "organization", "ip_address", "last_scan_time",
    },
    "get_failed_patches": {
        "patch_name", "bulletin_id", "failed_count", "missing_count", "severity",
    },
    "get_vulnerable_systems": {"name", "os", "health_status", "organization"},
    "get_patch_deployment_status": {
        "system_name", "patch_name", "patch_status", "patch_deployed", "status_text",
    },
    "get_vulnerability_exposure": {"cve_id", "cvss_score", "cvss_severity"},
    "get_compliance_status": {"check_name", "check_category", "passed", "severity"},
    "get_deployment_history": {"task_name", "task_status", "scheduled_time", "executed_time"},
}  # fmt: skip


def _a_failed_patch(history: History) -> int:
    failed = history.truths[-1].failed_counts()
    assert failed, "the simulated estate has failed patches"
    return max(failed, key=lambda p: (failed[p], p))


def test_every_legacy_method_with_legacy_arguments(
    service: PMPIntelligenceService, history: History
) -> None:
    patch = _a_failed_patch(history)
    calls = {
        "get_systems_by_organization": service.get_systems_by_organization("%"),
        "get_failed_patches": service.get_failed_patches(None, None),
        "get_vulnerable_systems": service.get_vulnerable_systems(severity=2),
        "get_patch_deployment_status": service.get_patch_deployment_status(str(patch)),
        "get_vulnerability_exposure": service.get_vulnerability_exposure(None),
        "get_compliance_status": service.get_compliance_status(None),
        "get_deployment_history": service.get_deployment_history(None, limit=10),
    }
    for name, result in calls.items():
        assert isinstance(result, QueryResult), name
        assert isinstance(result, PMPQueryResult), name
        assert result.data, f"{name} returned no rows"
        for row in result.data:
            assert set(row) == OLD_KEYS[name], name
        assert isinstance(result.extraction_timestamp, datetime), name
        assert isinstance(result.query_time_ms, int), name
        assert result.query_time_ms >= 0, name
        assert result.source_database == result.source == service.database_name, name
        assert result.snapshot_id == history.snapshot_ids[-1], name
        # simulated snapshots are stamped in 2025: more than 7 days ago
        assert result.is_stale, name
        assert "days old" in (result.staleness_warning or ""), name
    assert service.get_latest_snapshot() == {
        "snapshot_id": history.snapshot_ids[-1],
        "timestamp": history.started[-1],
    }
    report = service.get_data_freshness_report()
    assert list(report) == [service.database_name]
    info = report[service.database_name]
    assert isinstance(info, FreshnessInfo)
    assert info.last_refresh == history.started[-1]
    assert info.record_count == len(history.truths[-1].systems)
    assert info.is_stale
    assert info["is_stale"]
    assert "is_stale" in info
    assert service.is_stale() is True
    raw = service.query_raw("SELECT COUNT(*) AS n FROM snapshots", database="auto")
    assert raw.source_database == service.database_name
    assert raw.data[0]["n"] >= 3
    named = service.query_raw("SELECT 1 AS one", database=service.database_name)
    assert named.data == [{"one": 1}]
    with pytest.warns(DeprecationWarning, match="imported into"):  # read here, named as asked
        legacy = service.query_raw("SELECT 1 AS one", database="pmp_config.db")
    assert (legacy.data, legacy.source_database) == ([{"one": 1}], "pmp_config.db")
    with pytest.raises(ValueError, match="unknown database"):
        service.query_raw("SELECT 1", database="pmp_other.db")


def test_row_values_follow_the_legacy_rules(
    service: PMPIntelligenceService, history: History
) -> None:
    latest = history.truths[-1]
    org = sorted({str(r["branch_office_name"]) for r in latest.systems.values()})[0]
    rows = service.get_systems_by_organization(org).data
    assert [r["name"] for r in rows] == latest.names(org)
    assert all(r["organization"] == org and isinstance(r["health_status"], int) for r in rows)
    prefix = latest.names(org)[0][:6]
    by_name = service.get_systems_by_organization(prefix.lower() + "%").data  # LIKE, any case
    assert by_name
    assert all(r["name"].startswith(prefix) for r in by_name)
    three = service.get_vulnerable_systems().data
    health = {
        int(r["resource_id"]): int(r["resource_health_status"] or 0)
        for r in latest.systems.values()
    }
    assert sorted(r["name"] for r in three) == sorted(
        str(latest.systems[k]["resource_name"]) for k, h in health.items() if h == 3
    )
    assert all(r["health_status"] == 3 for r in three)
    two = service.get_vulnerable_systems(severity=2).data
    assert len(two) == sum(h >= 2 for h in health.values())
    assert [r["health_status"] for r in two] == sorted(
        (r["health_status"] for r in two), reverse=True
    )


def test_failed_patches_honour_the_filters(
    service: PMPIntelligenceService, history: History
) -> None:
    latest = history.truths[-1]
    rows = service.get_failed_patches().data
    assert sorted(r["failed_count"] for r in rows) == sorted(latest.failed_counts().values())
    assert [r["failed_count"] for r in rows] == sorted(
        (r["failed_count"] for r in rows), reverse=True
    )
    # organisation filter: only that organisation's systems count
    org = str(
        latest.systems[next(r for r, _, s in sorted(latest.states) if s == 206)][
            "branch_office_name"
        ]
    )
    in_org = {k for k, r in latest.systems.items() if r["branch_office_name"] == org}
    expected = sorted(n for n in _failed(latest.states, in_org).values())
    got = service.get_failed_patches(org_pattern=org).data
    assert sorted(r["failed_count"] for r in got) == expected
    assert (
        sum(r["failed_count"] for r in got) < sum(r["failed_count"] for r in rows)
        or len({str(r["branch_office_name"]) for r in latest.systems.values()}) == 1
    )
    # OS filter: a substring of the OS name
    windows = {k for k, r in latest.systems.items() if "windows" in str(r["os_name"]).lower()}
    got_os = service.get_failed_patches(os_filter="Windows").data
    assert sorted(r["failed_count"] for r in got_os) == sorted(
        _failed(latest.states, windows).values()
    )
    none = service.get_failed_patches(org_pattern="no such organisation").data
    assert none == []


def _failed(states: set[tuple[int, int, int]], systems: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for resource, patch, status in states:
        if status == 206 and resource in systems:
            out[patch] = out.get(patch, 0) + 1
    return out


def test_patch_deployment_status(service: PMPIntelligenceService, history: History, engine) -> None:  # type: ignore[no-untyped-def]
    latest = history.truths[-1]
    patch = _a_failed_patch(history)
    rows = service.get_patch_deployment_status(patch).data
    pairs = {(r, s) for r, p, s in latest.states if p == patch}
    assert len(rows) == len(pairs)
    assert sorted(r["patch_status"] for r in rows) == sorted(s for _, s in pairs)
    for row in rows:
        installed = row["patch_status"] == 201
        assert row["patch_deployed"] == int(installed)
        assert row["status_text"] == ("Installed" if installed else "Not Installed")
    name = rows[0]["patch_name"]
    by_name = service.get_patch_deployment_status(name[3:12]).data
    assert {r["patch_name"] for r in by_name} >= {name}


def test_reboot_pending_and_ordering_of_compliance(
    service: PMPIntelligenceService, history: History
) -> None:
    rows = service.get_compliance_status().data
    order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
    keys = [(order[r["severity"]], {False: 0, None: 1, True: 2}[r["passed"]]) for r in rows]
    assert keys == sorted(keys)
    assert {r["check_category"] for r in rows} == {"essential_eight"}
    assert any(r["passed"] is False for r in rows)
    assert any(r["passed"] is True for r in rows)
    exposure = service.get_vulnerability_exposure().data
    scores = [r["cvss_score"] for r in exposure if r["cvss_score"] is not None]
    assert scores == sorted(scores, reverse=True)
    tasks = service.get_deployment_history(limit=2).data
    assert len(tasks) == 2
    assert tasks[0]["executed_time"] >= tasks[1]["executed_time"]


def test_legacy_result_classes() -> None:
    moment = datetime(2024, 1, 1)
    result = PMPQueryResult(
        data=[{"a": 1}],
        source_database="pmp_config.db",
        extraction_timestamp=moment,
        is_stale=True,
        staleness_warning="kept",
        query_time_ms=5,
    )
    assert (result.source_database, result.source, result.query_time_ms) == (
        "pmp_config.db",
    ) * 2 + (5,)
    assert result.is_stale
    assert result.staleness_warning == "kept"
    old = QueryResult(data=[], source="x", extraction_timestamp=moment)
    assert old.is_stale
    assert old.staleness_warning is not None
    assert "days old" in old.staleness_warning
    assert issubclass(PMPIntelligenceService, BaseIntelligenceService)
    assert PMPIntelligenceService.UNIFIED_DB == "pmp_intelligence.db"
    assert PMPIntelligenceService.STALENESS_THRESHOLD_DAYS == 7
    assert str(PMPIntelligenceService.DEFAULT_DB_PATH).endswith(".maia/databases/intelligence")


def test_constructed_from_a_directory_or_a_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"(?i)database directory"):
        PMPIntelligenceService(db_path=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"(?i)database directory"):
        PMPIntelligenceService(db_path=tmp_path)  # exists, but holds no unified database
    with pytest.raises(FileNotFoundError):
        PMPIntelligenceService(url=f"sqlite:///{tmp_path / 'nothing.db'}")
    assert not (tmp_path / "nothing.db").exists()  # a read-only service creates nothing
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pmp_intelligence.db'}")
    upgrade(engine)
    engine.dispose()
    for where in (tmp_path, str(tmp_path / "pmp_intelligence.db")):
        with PMPIntelligenceService(where) as service:
            assert service.available_databases == ["pmp_intelligence.db"]
            assert service.get_latest_snapshot() == {"snapshot_id": None, "timestamp": None}
            empty = service.get_systems_by_organization("%")
            assert empty.data == []
            assert empty.is_stale
            assert empty.staleness_warning


def test_refresh_runs_one_extraction(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    with simulated_pmp(systems=8, seed=5, auth="token") as pmp:
        settings = settings_for(pmp, database_url)
        service = PMPIntelligenceService(settings=settings)
        assert service.get_latest_snapshot()["snapshot_id"] is None
        assert service.refresh(now=lambda: simulated_now(pmp)) is True
        first = service.get_latest_snapshot()["snapshot_id"]
        assert first is not None
        assert service.refresh(now=lambda: simulated_now(pmp)) is True  # never False after success
        assert service.get_latest_snapshot()["snapshot_id"] != first
        service.close()
    with Session(engine) as session:
        source = session.scalar(select(Source.id).where(Source.name == settings.source_name))
        triggers = session.scalars(
            select(Snapshot.trigger).where(Snapshot.source_id == source)
        ).all()
    assert triggers == ["service", "service"]
    broken = PMPIntelligenceService(
        url=database_url, settings=settings.model_copy(update={"base_url": None})
    )
    assert broken.refresh() is False
    with Session(engine) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Snapshot).where(Snapshot.source_id == source)
            )
            == 2
        )
