"""``pmp-intel status``: what the database knows about a source, without extracting."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.store.models import ExtractionGap, ExtractionLock, GapStatus, Snapshot, Source


@dataclass
class SnapshotLine:
    """One snapshot in the status report."""

    id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    coverage_pct: float | None
    systems_extracted: int | None
    systems_reported: int | None
    error: str | None


@dataclass
class GapLine:
    """One open gap."""

    snapshot_id: int
    endpoint: str
    page: int
    parent: str | None
    error_type: str
    http_status: int | None
    attempts: int
    runs: int


@dataclass
class StatusReport:
    """Coverage, recent snapshots, open gaps and the lock holder of one source."""

    source: str
    known: bool
    snapshots: list[SnapshotLine] = field(default_factory=list)
    open_gaps: list[GapLine] = field(default_factory=list)
    lock_holder: str | None = None
    lock_since: datetime | None = None

    @property
    def latest(self) -> SnapshotLine | None:
        """The newest snapshot."""
        return self.snapshots[0] if self.snapshots else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return asdict(self)


def extraction_status(
    sessions: sessionmaker[Session], source_name: str, limit: int = 10
) -> StatusReport:
    """The status of ``source_name`` (an unknown source gives an empty report)."""
    with sessions() as session:
        source = session.scalar(select(Source).where(Source.name == source_name))
        if source is None:
            return StatusReport(source_name, known=False)
        snapshots = session.scalars(
            select(Snapshot)
            .where(Snapshot.source_id == source.id)
            .order_by(Snapshot.id.desc())
            .limit(limit)
        ).all()
        gaps = session.scalars(
            select(ExtractionGap)
            .where(ExtractionGap.source_id == source.id, ExtractionGap.status == GapStatus.OPEN)
            .order_by(ExtractionGap.snapshot_id, ExtractionGap.endpoint, ExtractionGap.page)
        ).all()
        lock = session.get(ExtractionLock, source.id)
        return StatusReport(
            source_name,
            known=True,
            snapshots=[
                SnapshotLine(
                    s.id,
                    s.status,
                    s.trigger,
                    s.started_at,
                    s.finished_at,
                    s.coverage_pct,
                    s.systems_extracted,
                    s.systems_reported,
                    s.error_message,
                )
                for s in snapshots
            ],
            open_gaps=[
                GapLine(
                    g.snapshot_id,
                    g.endpoint,
                    g.page,
                    g.parent_key or None,
                    g.error_type,
                    g.http_status,
                    g.attempts,
                    g.runs,
                )
                for g in gaps
            ],
            lock_holder=lock.holder if lock else None,
            lock_since=lock.acquired_at if lock else None,
        )
