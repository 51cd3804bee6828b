"""Ordering and wording shared by the renderers."""

from __future__ import annotations

from datetime import datetime

from pmp_intel.analyse.compliance import ComplianceReport, ControlResult, StrategyResult
from pmp_intel.store.models import ControlOutcome

#: Failing controls first.
OUTCOME_ORDER = {
    ControlOutcome.INEFFECTIVE: 0,
    ControlOutcome.NO_VISIBILITY: 1,
    ControlOutcome.NOT_ASSESSED: 2,
    ControlOutcome.EFFECTIVE: 3,
    ControlOutcome.NOT_APPLICABLE: 4,
}

OUTCOME_LABEL = {
    ControlOutcome.INEFFECTIVE: "Ineffective",
    ControlOutcome.NO_VISIBILITY: "No visibility",
    ControlOutcome.NOT_ASSESSED: "Not assessed",
    ControlOutcome.EFFECTIVE: "Effective",
    ControlOutcome.NOT_APPLICABLE: "Not applicable",
}

STRATEGY_LABEL = {
    "patch_applications": "Patch applications",
    "patch_operating_systems": "Patch operating systems",
}


def ordered(report: ComplianceReport) -> list[ControlResult]:
    """Controls with the failing ones first, then by strategy, level and id."""
    return sorted(
        report.controls,
        key=lambda c: (OUTCOME_ORDER[c.outcome], c.strategy, min(c.levels), c.control_id),
    )


def levels(control: ControlResult) -> str:
    """``ML1–3`` style label."""
    lv = sorted(control.levels)
    return f"ML{lv[0]}" if len(lv) == 1 else f"ML{lv[0]}–{lv[-1]}"


def maturity(report: ComplianceReport, result: StrategyResult) -> str:
    """The headline of one strategy."""
    if not report.is_maturity_model:
        return "rules met" if result.maturity_level >= 1 else "rules not met"
    return f"ML{result.maturity_level}"


def window(control: ControlResult) -> str:
    """The window of a control in words."""
    if control.window_hours is None:
        return ""
    text = _hours(control.window_hours)
    if control.triggered_window_hours:
        text += f" ({_hours(control.triggered_window_hours)} if triggered)"
    return text


def _hours(hours: float) -> str:
    if hours < 72:
        return f"{hours:g} h"
    return f"{hours / 24:g} d"


def pct(value: float | None) -> str:
    """A percentage, or an em dash when there is none (never a made-up 100 %)."""
    return "—" if value is None else f"{value:.1f} %"


def when(moment: datetime | None) -> str:
    """A UTC timestamp for reports."""
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"
