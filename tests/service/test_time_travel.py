"""Time travel: every snapshot's state is reproduced, by id and by datetime; trends, diffs
and details."""

from __future__ import annotations

from datetime import timedelta

from service_helpers import History
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pmp_intel.analyse import ComplianceChecker
from pmp_intel.analyse.changes import diff_snapshots
from pmp_intel.service import PMPIntelligenceService


def test_each_snapshot_reproduces_its_state(
    service: PMPIntelligenceService, history: History
) -> None:
    assert len({t.names().__len__() for t in history.truths}) >= 1
    assert history.truths[0].states != history.truths[-1].states  # the estate did change
    for snapshot, started, truth in zip(
        history.snapshot_ids, history.started, history.truths, strict=True
    ):
        for ref in (snapshot, started, started + timedelta(hours=1)):
            systems = service.get_systems_by_organization("%", snapshot=ref)
            assert systems.snapshot_id == snapshot
            assert systems.extraction_timestamp == started
            assert [r["name"] for r in systems.data] == truth.names()
        failed = service.get_failed_patches(snapshot=snapshot).data
        assert sorted(r["failed_count"] for r in failed) == sorted(truth.failed_counts().values())
        summary = {
            r["organisation"]: {k: r[k] for k in ("systems", "missing_pairs", "failed_pairs")}
            for r in service.organisation_summary(snapshot=snapshot).data
        }
        assert summary == truth.organisations()
        vulnerable = service.get_vulnerable_systems(severity=0, snapshot=snapshot).data
        assert len(vulnerable) == len(truth.systems)
        # a deliberate look at an old snapshot is as stale as the database, no more
        assert systems.staleness_warning is not None


def test_snapshot_before_the_first_is_empty_with_a_warning(
    service: PMPIntelligenceService, history: History
) -> None:
    before = service.get_systems_by_organization("%", snapshot=history.started[0] - timedelta(1))
    assert before.data == []
    assert before.is_stale
    assert "No snapshot" in (before.staleness_warning or "")


def test_snapshot_diff_matches_the_analysis_and_the_truth(
    service: PMPIntelligenceService, history: History, engine: Engine
) -> None:
    first, second, third = history.snapshot_ids
    diff = service.snapshot_diff()
    assert (diff.old_snapshot_id, diff.new_snapshot_id) == (second, third)
    for old, new in ((first, second), (second, third), (first, third), (third, first)):
        got = service.snapshot_diff(old, new)
        with Session(engine) as session:
            expected = diff_snapshots(session, got_source(service, history), old, new)
        assert got.counts == {
            "systems_added": expected.systems_added,
            "systems_retired": expected.systems_retired,
            "newly_missing": expected.newly_missing,
            "newly_installed": expected.newly_installed,
        }
        assert sum(got.counts.values()) == len(got.data)
        assert {r["change"] for r in got.data} <= set(got.counts)
    # against the simulator's own truth (forward, first -> third)
    before, after = history.truths[0], history.truths[-1]
    was_missing = {(r, p) for r, p, s in before.states if s != 201}
    installed = {(r, p) for r, p, s in after.states if s == 201} & was_missing
    got = service.snapshot_diff(first, third)
    assert got.counts["newly_installed"] == len(installed) > 0
    assert {
        (r["resource_id"], r["patch_id"]) for r in got.data if r["change"] == "newly_installed"
    } == installed
    added = set(after.systems) - set(before.systems)
    assert got.counts["systems_added"] == len(added)
    limited = service.snapshot_diff(first, third, limit=1)
    assert limited.counts == got.counts
    assert len(limited.data) <= 4


def got_source(service: PMPIntelligenceService, history: History) -> int:
    rows = service.query_raw(
        "SELECT id FROM sources WHERE name = :name", {"name": history.source}
    ).data
    return int(rows[0]["id"])


def test_trends(service: PMPIntelligenceService, history: History, engine: Engine) -> None:
    span = history.started[-1] - history.started[0]
    trend = service.metrics_trend(span)
    assert [r["snapshot_id"] for r in trend.data] == history.snapshot_ids
    assert [r["total_systems"] for r in trend.data] == [len(t.systems) for t in history.truths]
    assert [r["failed_pairs"] for r in trend.data] == [
        sum(s == 206 for *_, s in t.states) for t in history.truths
    ]
    last_two = service.metrics_trend(history.started[1], history.started[2])
    assert [r["snapshot_id"] for r in last_two.data] == history.snapshot_ids[1:]
    assert service.metrics().data == [trend.data[-1]]
    assert service.metrics(snapshot=history.snapshot_ids[0]).data == [trend.data[0]]
    severity = service.severity_trend(span).data
    assert [r["missing_total"] for r in severity] == [r["missing_pairs"] for r in trend.data]
    compliance = service.compliance_trend(span).data
    checker = ComplianceChecker(engine).trend(
        got_source(service, history), history.started[0], history.started[-1]
    )
    expected = {
        (p.snapshot_id, strategy): level for p in checker for strategy, level in p.maturity.items()
    }
    assert {(r["snapshot_id"], r["strategy"]): r["maturity_level"] for r in compliance} == expected
    assert len(compliance) == 2 * len(history.snapshot_ids)
    expected_violations = {
        (p.snapshot_id, strategy): v for p in checker for strategy, v in p.violations.items()
    }
    assert {
        (r["snapshot_id"], r["strategy"]): r["violations"] for r in compliance
    } == expected_violations


def test_system_and_patch_detail(service: PMPIntelligenceService, history: History) -> None:
    first, last = history.truths[0], history.truths[-1]
    resource = next(r for r in sorted(first.systems) if r in last.systems)
    detail = service.system_detail(resource)
    assert [row["resource_id"] for row in detail.data] == [resource]
    assert detail.data[0]["resource_name"] == last.systems[resource]["resource_name"]
    assert len(detail.history) >= 1
    assert detail.history[-1]["valid_to_snapshot_id"] is None
    assert {(r["patch_id"], r["install_status"]) for r in detail.related} == {
        (p, s) for r, p, s in last.states if r == resource
    }
    old = service.system_detail(resource, snapshot=history.snapshot_ids[0])
    assert {(r["patch_id"], r["install_status"]) for r in old.related} == {
        (p, s) for r, p, s in first.states if r == resource
    }
    patch = max(last.failed_counts(), key=lambda p: (last.failed_counts()[p], p))
    pd = service.patch_detail(patch)
    assert pd.data[0]["patch_id"] == patch
    assert {r["resource_id"] for r in pd.related} == {
        r for r, p, s in last.states if p == patch and s != 201
    }
    assert service.system_detail(1).data == []
