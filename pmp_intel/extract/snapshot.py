"""Snapshot life cycle: find or create the source, open, resume, reset and finish snapshots,
and the gaps they carry.

A snapshot is ``in_progress`` from before its first request until it finishes ``complete``,
``partial`` (coverage target met, gaps remain) or ``failed`` (with the error). A run stopped
on its budget leaves it ``in_progress`` on purpose: the next run resumes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.orm import Session

from pmp_intel.__about__ import __version__
from pmp_intel.store.merge import clear_staging
from pmp_intel.store.models import (
    ENTITIES,
    ExtractionCheckpoint,
    ExtractionGap,
    GapStatus,
    Snapshot,
    SnapshotStatus,
    Source,
)
from pmp_intel.store.types import utcnow

RESET_REASON = "reset"


def ensure_source(
    session: Session, name: str, base_url: str | None = None, edition: str | None = None
) -> Source:
    """The source called ``name``, created on first use (its URL refreshed if it moved)."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, base_url=base_url, edition=edition)
        session.add(source)
        session.flush()
    elif base_url and source.base_url != base_url:
        source.base_url = base_url
    return source


def open_snapshot(session: Session, source_id: int) -> Snapshot | None:
    """The source's ``in_progress`` snapshot, if any (there is at most one)."""
    return session.scalar(
        select(Snapshot).where(
            Snapshot.source_id == source_id, Snapshot.status == SnapshotStatus.IN_PROGRESS
        )
    )


def latest_snapshot(session: Session, source_id: int) -> Snapshot | None:
    """The source's newest snapshot, whatever its status."""
    return session.scalar(
        select(Snapshot)
        .where(Snapshot.source_id == source_id)
        .order_by(Snapshot.id.desc())
        .limit(1)
    )


def start_snapshot(
    session: Session, source_id: int, trigger: str, started_at: datetime | None = None
) -> Snapshot:
    """Open a new ``in_progress`` snapshot (started now, or at ``started_at``)."""
    snapshot = Snapshot(
        source_id=source_id,
        status=SnapshotStatus.IN_PROGRESS.value,
        trigger=trigger,
        started_at=started_at or utcnow(),
        pmp_intel_version=__version__,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def abandon_gaps(session: Session, snapshot_id: int) -> int:
    """Mark the open gaps of ``snapshot_id`` abandoned."""
    session.flush()
    result = session.connection().execute(
        update(ExtractionGap)
        .where(ExtractionGap.snapshot_id == snapshot_id, ExtractionGap.status == GapStatus.OPEN)
        .values(status=GapStatus.ABANDONED.value, closed_at=utcnow())
    )
    return result.rowcount


def fail_snapshot(session: Session, snapshot: Snapshot, error: str) -> None:
    """End ``snapshot`` as failed: nothing of it is merged, its staging is dropped."""
    snapshot.status = SnapshotStatus.FAILED.value
    snapshot.error_message = error
    snapshot.finished_at = utcnow()
    abandon_gaps(session, snapshot.id)
    clear_staging(session, snapshot.id)
    session.execute(
        delete(ExtractionCheckpoint).where(ExtractionCheckpoint.snapshot_id == snapshot.id)
    )


def reset_open_snapshot(session: Session, source_id: int) -> int | None:
    """``--reset``: fail the open snapshot with reason "reset"; returns its id, if any."""
    snapshot = open_snapshot(session, source_id)
    if snapshot is None:
        return None
    fail_snapshot(session, snapshot, RESET_REASON)
    return snapshot.id


def open_gaps(session: Session, snapshot_id: int) -> Sequence[ExtractionGap]:
    """The open gaps of ``snapshot_id``, oldest first."""
    return session.scalars(
        select(ExtractionGap)
        .where(ExtractionGap.snapshot_id == snapshot_id, ExtractionGap.status == GapStatus.OPEN)
        .order_by(ExtractionGap.endpoint, ExtractionGap.parent_key, ExtractionGap.page)
    ).all()


def count_open_gaps(session: Session, snapshot_id: int) -> int:
    """How many gaps of ``snapshot_id`` are still open."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ExtractionGap)
            .where(
                ExtractionGap.snapshot_id == snapshot_id,
                ExtractionGap.status == GapStatus.OPEN,
            )
        )
        or 0
    )


def gap_retry_target(session: Session, source_id: int, max_runs: int) -> Snapshot | None:
    """The newest snapshot when it is ``partial`` with open gaps still worth retrying.

    A later run retries those pages first (into that snapshot) before it starts a new one.
    Gaps already tried in ``max_runs`` runs are abandoned here, so a page that never heals
    cannot stop new snapshots forever. A partial snapshot still holding staged rows (a gap
    run recovered pages, then died before merging them) is a target too, so that they merge.
    """
    latest = latest_snapshot(session, source_id)
    if latest is None or latest.status != SnapshotStatus.PARTIAL:
        return None
    session.execute(
        update(ExtractionGap)
        .where(
            ExtractionGap.snapshot_id == latest.id,
            ExtractionGap.status == GapStatus.OPEN,
            ExtractionGap.runs >= max_runs,
        )
        .values(status=GapStatus.ABANDONED.value, closed_at=utcnow())
    )
    if count_open_gaps(session, latest.id) or has_staged_rows(session, latest.id):
        return latest
    return None


def has_staged_rows(session: Session, snapshot_id: int) -> bool:
    """True when any staging table holds rows of ``snapshot_id`` (not merged yet)."""
    for _history, staging in ENTITIES.values():
        table: Table = staging.__table__  # type: ignore[attr-defined]
        if session.scalar(select(exists().where(table.c.snapshot_id == snapshot_id))):
            return True
    return False


@dataclass(frozen=True)
class Coverage:
    """Distinct systems extracted against the server's own total."""

    extracted: int
    reported: int | None

    @property
    def pct(self) -> float | None:
        """Percentage, capped at 100 (a server's total can lag its detail)."""
        if not self.reported:
            return None
        return min(100.0, 100.0 * self.extracted / self.reported)

    def meets(self, target: float) -> bool:
        """True when coverage reaches ``target`` (a share, 0–1]."""
        pct = self.pct
        return pct is not None and pct >= 100.0 * target - 1e-9
