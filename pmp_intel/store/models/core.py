"""Sources, snapshots and the per-source extraction lock."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pmp_intel.store.models.base import Base, domain_check
from pmp_intel.store.types import BigIntPK, utcnow


class SnapshotStatus(StrEnum):
    """Life cycle of a snapshot (design.md §2)."""

    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class SnapshotTrigger(StrEnum):
    """What started a snapshot."""

    CRON = "cron"
    MANUAL = "manual"
    LEGACY_IMPORT = "legacy-import"
    SERVICE = "service"
    DEMO = "demo"


class Source(Base):
    """One PMP server whose data this database holds; every natural key is scoped by it."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(512))
    #: ``cloud``, ``onprem``, ``msp``, ``simulator`` or ``legacy``; informational.
    edition: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    snapshots: Mapped[list[Snapshot]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Source(id={self.id!r}, name={self.name!r})"


class Snapshot(Base):
    """One extraction of one source, from its first request to its merge."""

    __tablename__ = "snapshots"
    __table_args__ = (
        domain_check("status", tuple(s.value for s in SnapshotStatus)),
        domain_check("trigger", tuple(t.value for t in SnapshotTrigger)),
        CheckConstraint(
            "coverage_pct IS NULL OR (coverage_pct >= 0 AND coverage_pct <= 100)",
            name="coverage_range",
        ),
        Index("ix_snapshots_source_started", "source_id", "started_at"),
        Index("ix_snapshots_source_status", "source_id", "status"),
        # At most one open snapshot per source: resume finds it, a second run cannot add one.
        Index(
            "uq_snapshots_open",
            "source_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=SnapshotStatus.IN_PROGRESS.value)
    trigger: Mapped[str] = mapped_column(String(16), default=SnapshotTrigger.MANUAL.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    merged_at: Mapped[datetime | None]
    coverage_pct: Mapped[float | None] = mapped_column(Float)
    systems_reported: Mapped[int | None] = mapped_column(Integer)
    systems_extracted: Mapped[int | None] = mapped_column(Integer)
    records_extracted: Mapped[int] = mapped_column(BigInteger, default=0)
    requests_made: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    api_version: Mapped[str | None] = mapped_column(String(8))
    pmp_intel_version: Mapped[str | None] = mapped_column(String(32))
    #: Provenance and anything else worth keeping (e.g. the legacy run a snapshot came from).
    details: Mapped[dict[str, Any] | None]

    source: Mapped[Source] = relationship(back_populates="snapshots")

    def __repr__(self) -> str:
        return f"Snapshot(id={self.id!r}, source_id={self.source_id!r}, status={self.status!r})"


class ExtractionLock(Base):
    """At most one extraction per source: the row exists while a run holds the source."""

    __tablename__ = "extraction_locks"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    snapshot_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("snapshots.id", ondelete="SET NULL")
    )
    #: ``host:pid`` of the holder, so a lock left by a dead process can be taken over.
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
