"""Essential Eight control outcomes per snapshot."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pmp_intel.store.models.base import Base, SnapshotScoped, domain_check


class ControlOutcome(StrEnum):
    """ASD's assessment outcomes for one control."""

    EFFECTIVE = "effective"
    INEFFECTIVE = "ineffective"
    NO_VISIBILITY = "no_visibility"
    NOT_APPLICABLE = "not_applicable"
    #: PMP holds no evidence for the control (e.g. removal of unsupported software); it needs
    #: evidence from elsewhere (ASD's "not assessed").
    NOT_ASSESSED = "not_assessed"


class Strategy(StrEnum):
    """The two Essential Eight strategies pmp-intel can assess from PMP data."""

    PATCH_APPLICATIONS = "patch_applications"
    PATCH_OPERATING_SYSTEMS = "patch_operating_systems"


class ComplianceCheck(SnapshotScoped, Base):
    """One control at one maturity level under one profile, with the figures behind it."""

    __tablename__ = "compliance_checks"
    __table_args__ = (
        UniqueConstraint(
            "snapshot_id",
            "profile",
            "strategy",
            "maturity_level",
            "control_id",
            name="uq_compliance_checks_control",
        ),
        domain_check("outcome", tuple(o.value for o in ControlOutcome)),
        domain_check("strategy", tuple(s.value for s in Strategy)),
        domain_check("maturity_level", (1, 2, 3)),
        CheckConstraint(
            "pct_compliant IS NULL OR (pct_compliant >= 0 AND pct_compliant <= 100)",
            name="pct_range",
        ),
        Index("ix_compliance_checks_outcome", "snapshot_id", "outcome"),
    )

    #: Rule set, e.g. ``e8-2023-11`` (default), ``e8-2021``, ``e8-2017``, ``legacy-sla``.
    profile: Mapped[str] = mapped_column(String(32))
    strategy: Mapped[str] = mapped_column(String(32))
    maturity_level: Mapped[int] = mapped_column(SmallInteger)
    #: ISM control identifier, e.g. ``ISM-1876``.
    control_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    systems_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    pairs_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    not_yet_due: Mapped[int] = mapped_column(Integer, default=0)
    pct_compliant: Mapped[float | None] = mapped_column(Float)
    oldest_overdue_time: Mapped[datetime | None]
    #: The worst systems and patches behind the outcome, and anything else a report shows.
    details: Mapped[dict[str, Any] | None]
