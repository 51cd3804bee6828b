"""What the extractor did: checkpoints, gaps and per-endpoint runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pmp_intel.store.models.base import Base, domain_check
from pmp_intel.store.types import BigIntPK, utcnow


class GapStatus(StrEnum):
    """A gap is open until a later run reads the page, or it is abandoned (e.g. by reset)."""

    OPEN = "open"
    CLOSED = "closed"
    ABANDONED = "abandoned"


class EndpointRunStatus(StrEnum):
    """Outcome of one endpoint within one snapshot."""

    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNSUPPORTED = "unsupported"


class ExtractionCheckpoint(Base):
    """The last page of an endpoint (and fan-out parent) whose rows are committed to staging.

    Written in the same transaction as that page's rows, so it can never run ahead of them.
    """

    __tablename__ = "extraction_checkpoints"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "endpoint", "parent_key"),
        CheckConstraint("last_page >= 0", name="last_page_non_negative"),
        CheckConstraint("records_extracted >= 0", name="records_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE")
    )
    endpoint: Mapped[str] = mapped_column(String(64))
    parent_key: Mapped[str] = mapped_column(String(64), default="")
    last_page: Mapped[int] = mapped_column(Integer, default=0)
    page_limit: Mapped[int | None] = mapped_column(Integer)
    total_reported: Mapped[int | None] = mapped_column(Integer)
    records_extracted: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExtractionGap(Base):
    """A page that failed after the retry budget. Later runs retry open gaps first."""

    __tablename__ = "extraction_gaps"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "endpoint", "parent_key", "page"),
        domain_check("status", tuple(s.value for s in GapStatus)),
        Index("ix_extraction_gaps_source_status", "source_id", "status"),
        Index("ix_extraction_gaps_snapshot", "snapshot_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    snapshot_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE")
    )
    endpoint: Mapped[str] = mapped_column(String(64))
    parent_key: Mapped[str] = mapped_column(String(64), default="")
    page: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Runs that tried the page (the one that recorded the gap included); past the limit a
    #: gap is abandoned so a permanently broken page cannot hold the source back forever.
    runs: Mapped[int] = mapped_column(Integer, default=1)
    error_message: Mapped[str | None] = mapped_column(Text)
    #: At most 1 KB of the response, emails and IP addresses redacted.
    response_sample: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=GapStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_in_snapshot_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("snapshots.id", ondelete="SET NULL")
    )


class EndpointRun(Base):
    """Per-endpoint status, counts and timing within a snapshot (summed over resumed runs)."""

    __tablename__ = "endpoint_runs"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "endpoint"),
        domain_check("status", tuple(s.value for s in EndpointRunStatus)),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE")
    )
    endpoint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=EndpointRunStatus.RUNNING.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    total_reported: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[int] = mapped_column(Integer, default=0)
    invalid_records: Mapped[int] = mapped_column(Integer, default=0)
    error_type: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
