"""What one extraction run produced, and the exit code it maps to (design.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Exit codes of ``pmp-intel extract`` (a public contract for cron)."""

    COMPLETE = 0
    FATAL = 1
    NOT_COMPLETE = 2


class RunOutcome(StrEnum):
    """How a run ended."""

    COMPLETE = "complete"  # snapshot complete (this run may only have closed gaps)
    PARTIAL = "partial"  # snapshot finished with open gaps, coverage target met
    BUDGET = "budget"  # stopped on --max-pages / --max-minutes; snapshot stays open
    FAILED = "failed"  # snapshot failed (fatal error, or coverage below target)


@dataclass
class EndpointSummary:
    """Per-endpoint figures of one run."""

    name: str
    status: str
    pages: int = 0
    records: int = 0
    requests: int = 0
    retries: int = 0
    errors: int = 0
    gaps: int = 0
    invalid_records: int = 0
    total_reported: int | None = None


@dataclass
class ExtractionResult:
    """The result of :meth:`pmp_intel.Extractor.run`."""

    outcome: RunOutcome
    snapshot_id: int | None
    source_id: int | None = None
    coverage_pct: float | None = None
    systems_extracted: int | None = None
    systems_reported: int | None = None
    pages: int = 0
    records: int = 0
    requests: int = 0
    gaps_recorded: int = 0
    gaps_closed: int = 0
    gaps_open: int = 0
    merged: bool = False
    resumed: bool = False
    gap_retry_only: bool = False
    error: str | None = None
    duration_s: float = 0.0
    endpoints: dict[str, EndpointSummary] = field(default_factory=dict)

    @property
    def exit_code(self) -> ExitCode:
        """0 complete, 1 fatal, 2 partial or stopped on budget."""
        if self.outcome is RunOutcome.COMPLETE:
            return ExitCode.COMPLETE
        if self.outcome is RunOutcome.FAILED:
            return ExitCode.FATAL
        return ExitCode.NOT_COMPLETE

    @property
    def ok(self) -> bool:
        """True when the snapshot is complete or met its coverage target."""
        return self.outcome in (RunOutcome.COMPLETE, RunOutcome.PARTIAL)
