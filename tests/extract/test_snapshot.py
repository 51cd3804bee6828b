"""Snapshot life cycle: one open snapshot per source, reset, failure, gap retry targets."""

from __future__ import annotations

import pytest
from fresh_source import Fresh
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pmp_intel.extract.snapshot import (
    Coverage,
    ensure_source,
    gap_retry_target,
    open_snapshot,
    reset_open_snapshot,
    start_snapshot,
)
from pmp_intel.store.engine import unit_of_work
from pmp_intel.store.models import ExtractionGap, Snapshot, StagedSystem


def test_ensure_source_is_idempotent(fresh: Fresh) -> None:
    with unit_of_work(fresh.sessions) as session:
        a = ensure_source(session, "one-source", "https://a.example")
        b = ensure_source(session, "one-source", "https://b.example")
        assert a.id == b.id
        assert b.base_url == "https://b.example"


def test_only_one_open_snapshot_per_source(fresh: Fresh) -> None:
    with pytest.raises(IntegrityError), unit_of_work(fresh.sessions) as session:
        start_snapshot(session, fresh.source_id, "manual")


def test_reset_fails_the_open_snapshot_and_drops_its_staging(fresh: Fresh) -> None:
    with unit_of_work(fresh.sessions) as session:
        session.add(
            StagedSystem(
                snapshot_id=fresh.snapshot_id,
                endpoint="allsystems",
                parent_key="",
                page=1,
                seq=0,
                resource_id=1,
            )
        )
        session.add(
            ExtractionGap(
                source_id=fresh.source_id,
                snapshot_id=fresh.snapshot_id,
                endpoint="allsystems",
                page=2,
                error_type="server_error",
            )
        )
    with unit_of_work(fresh.sessions) as session:
        assert reset_open_snapshot(session, fresh.source_id) == fresh.snapshot_id
    with unit_of_work(fresh.sessions) as session:
        snapshot = session.get(Snapshot, fresh.snapshot_id)
        assert snapshot is not None
        assert (snapshot.status, snapshot.error_message) == ("failed", "reset")
        assert open_snapshot(session, fresh.source_id) is None
        assert (
            session.scalar(
                select(func.count())
                .select_from(StagedSystem)
                .where(StagedSystem.snapshot_id == fresh.snapshot_id)
            )
            == 0
        )
        gap = session.scalars(
            select(ExtractionGap).where(ExtractionGap.snapshot_id == fresh.snapshot_id)
        ).one()
        assert gap.status == "abandoned"
        assert reset_open_snapshot(session, fresh.source_id) is None


def test_gap_retry_target_and_abandonment(fresh: Fresh) -> None:
    with unit_of_work(fresh.sessions) as session:
        snapshot = session.get(Snapshot, fresh.snapshot_id)
        assert snapshot is not None
        snapshot.status = "partial"
        session.add(
            ExtractionGap(
                source_id=fresh.source_id,
                snapshot_id=fresh.snapshot_id,
                endpoint="allsystems",
                page=2,
                error_type="server_error",
                runs=1,
            )
        )
    with unit_of_work(fresh.sessions) as session:
        target = gap_retry_target(session, fresh.source_id, max_runs=3)
        assert target is not None
        assert target.id == fresh.snapshot_id
        gap = session.scalars(
            select(ExtractionGap).where(ExtractionGap.snapshot_id == fresh.snapshot_id)
        ).one()
        gap.runs = 3
    with unit_of_work(fresh.sessions) as session:
        assert gap_retry_target(session, fresh.source_id, max_runs=3) is None


@pytest.mark.parametrize(
    ("extracted", "reported", "pct", "meets"),
    [
        (3193, 3362, 94.97, False),
        (3194, 3362, 95.0, True),
        (10, None, None, False),
        (110, 100, 100.0, True),
    ],
)
def test_coverage(extracted: int, reported: int | None, pct: float | None, meets: bool) -> None:
    coverage = Coverage(extracted, reported)
    assert (round(coverage.pct, 2) if coverage.pct is not None else None) == pct
    assert coverage.meets(0.95) is meets
