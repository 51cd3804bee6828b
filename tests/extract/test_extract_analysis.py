"""Extraction followed by the default analyses: metrics agree with the simulator's own
counts and with its summary endpoint; compliance is computed; recomputation is idempotent."""

from __future__ import annotations

from sim_extraction import settings_for, truth
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel import ComplianceChecker, Extractor, MetricsCalculator
from pmp_intel.analyse import compare_with_summary
from pmp_intel.store.models import ComplianceCheck, PatchMetric, ServerSummary
from pmp_intel.testing import simulated_pmp


def test_metrics_agree_with_the_simulator_and_its_summary(
    engine: Engine, database_url: str
) -> None:
    with simulated_pmp(systems=80, seed=41) as pmp:
        settings = settings_for(pmp, database_url)
        result = Extractor(settings, engine=engine).run()
        expected = truth(pmp)
    assert result.exit_code == 0
    snapshot_id = result.snapshot_id
    assert snapshot_id is not None
    metrics = MetricsCalculator(engine).get(snapshot_id)
    assert metrics is not None, "the extractor did not run the metrics"
    states = expected["states"]
    totals = metrics.patch_total
    assert totals.applicable_pairs == len(states)
    assert totals.installed_pairs == sum(1 for s in states if s[2] == 201)
    assert totals.missing_pairs == sum(1 for s in states if s[2] == 202)
    assert totals.failed_pairs == sum(1 for s in states if s[2] == 206)
    assert metrics.health_total.total_systems == len(expected["systems"])
    with Session(engine) as session:
        summary = session.scalars(
            select(ServerSummary).where(ServerSummary.snapshot_id == snapshot_id)
        ).one()
        checks = session.scalar(
            select(func.count())
            .select_from(ComplianceCheck)
            .where(ComplianceCheck.snapshot_id == snapshot_id)
        )
    assert compare_with_summary(metrics, summary) == []
    assert checks

    # recomputing replaces, never duplicates
    MetricsCalculator(engine).calculate(snapshot_id)
    ComplianceChecker(engine).evaluate(snapshot_id)
    with Session(engine) as session:
        rows = session.scalar(
            select(func.count())
            .select_from(PatchMetric)
            .where(PatchMetric.snapshot_id == snapshot_id, PatchMetric.scope == "total")
        )
        again = session.scalar(
            select(func.count())
            .select_from(ComplianceCheck)
            .where(ComplianceCheck.snapshot_id == snapshot_id)
        )
    assert rows == 1
    assert again == checks


def test_a_failing_analysis_rolls_back_only_itself(engine: Engine, database_url: str) -> None:
    from pmp_intel.extract.extractor import default_analyses
    from pmp_intel.store.models import Snapshot

    def half_done_then_broken(sessions, snapshot_id):  # type: ignore[no-untyped-def]
        with sessions() as session, session.begin():
            MetricsCalculator(sessions).calculate(snapshot_id)  # writes metric rows...
            raise RuntimeError("analysis bug")  # ...then fails: they must not stay

    with simulated_pmp(systems=20, seed=43) as pmp:
        settings = settings_for(pmp, database_url)
        checker = default_analyses(settings)[1]
        result = Extractor(
            settings, engine=engine, analyses=[half_done_then_broken, checker]
        ).run()
    assert result.exit_code == 0
    with Session(engine) as session:
        snapshot = session.get(Snapshot, result.snapshot_id)
        metric_rows = session.scalar(
            select(func.count())
            .select_from(PatchMetric)
            .where(PatchMetric.snapshot_id == result.snapshot_id)
        )
        checks = session.scalar(
            select(func.count())
            .select_from(ComplianceCheck)
            .where(ComplianceCheck.snapshot_id == result.snapshot_id)
        )
    assert snapshot is not None
    assert snapshot.status == "complete"  # the merge stands
    assert metric_rows == 0  # the failed analysis left nothing behind
    assert checks  # the next analysis still ran
