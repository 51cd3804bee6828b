"""What the server itself reported for a snapshot (``summary``, ``som/summary``,
``dbupdatestatus``), kept apart from the figures pmp-intel computes from the detail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmp_intel.store.models.base import Base, SnapshotScoped


class ServerSummary(SnapshotScoped, Base):
    """The server's own counters at one snapshot. No sum checks: these are the server's
    figures as sent (real servers disagree with themselves by one or two)."""

    __tablename__ = "server_summaries"
    __table_args__ = (UniqueConstraint("snapshot_id"),)

    installed_patches: Mapped[int | None] = mapped_column(Integer)
    applicable_patches: Mapped[int | None] = mapped_column(Integer)
    new_patches: Mapped[int | None] = mapped_column(Integer)
    missing_patches: Mapped[int | None] = mapped_column(Integer)
    missing_critical: Mapped[int | None] = mapped_column(Integer)
    missing_important: Mapped[int | None] = mapped_column(Integer)
    missing_moderate: Mapped[int | None] = mapped_column(Integer)
    missing_low: Mapped[int | None] = mapped_column(Integer)
    missing_unrated: Mapped[int | None] = mapped_column(Integer)
    missing_total: Mapped[int | None] = mapped_column(Integer)
    total_systems: Mapped[int | None] = mapped_column(Integer)
    healthy_systems: Mapped[int | None] = mapped_column(Integer)
    moderately_vulnerable_systems: Mapped[int | None] = mapped_column(Integer)
    highly_vulnerable_systems: Mapped[int | None] = mapped_column(Integer)
    health_unknown_systems: Mapped[int | None] = mapped_column(Integer)
    scanned_systems: Mapped[int | None] = mapped_column(Integer)
    unscanned_systems: Mapped[int | None] = mapped_column(Integer)
    scan_success_count: Mapped[int | None] = mapped_column(Integer)
    scan_failure_count: Mapped[int | None] = mapped_column(Integer)
    apd_tasks: Mapped[int | None] = mapped_column(Integer)
    last_db_update_status: Mapped[str | None] = mapped_column(String(32))
    last_db_update_time: Mapped[datetime | None]
    auto_db_update_disabled: Mapped[bool | None] = mapped_column(Boolean)
    db_update_in_progress: Mapped[bool | None] = mapped_column(Boolean)
    #: The ``som/summary`` object, whose fields are not documented.
    som_summary: Mapped[dict[str, Any] | None]
    #: The raw ``summary`` and ``dbupdatestatus`` objects, for fields not mapped above.
    raw: Mapped[dict[str, Any] | None]
