"""Markdown compliance report."""

from __future__ import annotations

from pmp_intel.analyse.compliance import ComplianceReport
from pmp_intel.analyse.report.common import (
    OUTCOME_LABEL,
    STRATEGY_LABEL,
    levels,
    maturity,
    ordered,
    pct,
    when,
    window,
)
from pmp_intel.store.models import ControlOutcome


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ComplianceReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [
        f"# Essential Eight patching compliance — {_cell(report.source_name)}",
        "",
        f"Snapshot {report.snapshot_id} ({when(report.snapshot_started_at)}), profile "
        f"**{report.profile}**: {report.profile_title}.",
        "",
        "| Strategy | Maturity (ASD rule) | Blocking next level | Not assessed from PMP data |"
        + (" Threshold mode |" if report.threshold_pct is not None else ""),
        "|---|---|---|---|" + ("---|" if report.threshold_pct is not None else ""),
    ]
    for s in report.strategies:
        row = (
            f"| {STRATEGY_LABEL.get(s.strategy, s.strategy)} | **{maturity(report, s)}** | "
            f"{', '.join(s.blocking) or '—'} | {', '.join(s.not_assessed) or '—'} |"
        )
        if report.threshold_pct is not None:
            row += (
                f" ML{s.threshold_maturity_level} at ≥ {report.threshold_pct:g} % "
                "(not ASD's rule) |"
            )
        out.append(row)
    out += [
        "",
        "A level is achieved only when every control at that level and below is effective or "
        "not applicable. Controls PMP holds no evidence for are listed as not assessed and need "
        "evidence from elsewhere before the level is claimed.",
        "",
        "## Controls (failing first)",
        "",
        "| Outcome | Control | Levels | Requirement | Window | Systems | Pairs | Violations "
        "| Not yet due | No visibility | Compliant | Oldest overdue |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in ordered(report):
        out.append(
            f"| {OUTCOME_LABEL[c.outcome]} | {c.control_id} | {levels(c)} | {_cell(c.title)} | "
            f"{window(c)} | {c.systems_in_scope} | {c.pairs_in_scope} | {c.violations} | "
            f"{c.not_yet_due} | {c.no_visibility} | {pct(c.pct_compliant)} | "
            f"{when(c.oldest_overdue_time)} |"
        )
    failing = [c for c in ordered(report) if c.outcome is ControlOutcome.INEFFECTIVE]
    if failing:
        out += ["", "## Failing controls in detail", ""]
    for c in failing:
        out += [f"### {c.control_id} ({levels(c)}): {c.title}", "", f"{c.reason}.", ""]
        if c.worst_systems:
            out.append(
                "Worst systems: "
                + "; ".join(
                    f"{_cell(i.name)} ({i.detail or f'{i.violations} violations'})"
                    for i in c.worst_systems
                )
                + "."
            )
        if c.worst_patches:
            out.append("")
            out.append(
                "Worst patches: "
                + "; ".join(f"{_cell(i.name)} ({i.violations} systems)" for i in c.worst_patches)
                + "."
            )
        out.append("")
    other = [c for c in ordered(report) if c.outcome is not ControlOutcome.INEFFECTIVE]
    if other:
        out += ["## Why the other outcomes", ""]
        out += [
            f"- **{c.control_id}** ({levels(c)}, {OUTCOME_LABEL[c.outcome]}): {c.reason}"
            for c in other
        ]
    if report.trend:
        out += [
            "",
            "## Trend",
            "",
            "| Snapshot | Started | "
            + " | ".join(STRATEGY_LABEL.get(s.strategy, s.strategy) for s in report.strategies)
            + " | Missing critical patches |",
            "|---|---|" + "---|" * len(report.strategies) + "---|",
        ]
        for point in report.trend:
            cells = [
                f"ML{point.maturity.get(s.strategy, 0)} / "
                f"{pct(point.pct_compliant.get(s.strategy))}"
                for s in report.strategies
            ]
            crit = "—" if point.missing_critical_patches is None else point.missing_critical_patches
            out.append(
                f"| {point.snapshot_id} | {when(point.started_at)} | "
                + " | ".join(cells)
                + f" | {crit} |"
            )
    out += ["", "## Assumptions", ""] + [f"- {line}" for line in report.assumptions]
    return "\n".join(out) + "\n"
