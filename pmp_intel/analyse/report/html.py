"""One self-contained HTML file: inline CSS and inline SVG charts, no scripts, no external
resources, so it can be e-mailed to a manager and nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pmp_intel.analyse.compliance import ComplianceReport, ControlResult, TrendPoint
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

_CSS = (
    "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;"
    "max-width:1100px;color:#1d2430;line-height:1.4;padding:0 1rem}"
    "h1{font-size:1.5rem;margin-bottom:.2rem}"
    "h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6}"
    "h3{font-size:1rem;margin-bottom:.3rem}"
    ".muted{color:#5b6472;font-size:.9rem}"
    ".cards{display:flex;gap:1rem;flex-wrap:wrap}"
    ".card{border:1px solid #d8dde6;border-radius:8px;padding:1rem;min-width:260px;flex:1}"
    ".big{font-size:2.2rem;font-weight:700}"
    "table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}"
    "th,td{border-bottom:1px solid #e6e9ef;padding:.3rem .4rem;text-align:left;vertical-align:top}"
    "th{background:#f4f6f9}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".o{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;"
    "font-weight:600;white-space:nowrap}"
    ".ineffective{background:#fde2e1;color:#9b1c1c}"
    ".no_visibility{background:#fff1c2;color:#7a5300}"
    ".not_assessed{background:#e8e8f4;color:#3b3b7a}"
    ".effective{background:#dcf5e3;color:#17663a}"
    ".not_applicable{background:#eef0f3;color:#4a5261}"
    ".note{background:#f4f6f9;padding:.6rem;border-radius:6px}"
    "svg text{font-size:11px;fill:#5b6472}"
)

_COLOURS = ("#2563eb", "#dc2626", "#059669", "#9333ea")


def _badge(outcome: ControlOutcome) -> str:
    return f'<span class="o {outcome.value}">{OUTCOME_LABEL[outcome]}</span>'


def _chart(
    title: str,
    points: Sequence[TrendPoint],
    series: dict[str, list[float | None]],
    y_max: float | None = None,
    unit: str = "",
) -> str:
    width, height, left, bottom, top = 520, 200, 44, 28, 14
    values = [v for vs in series.values() for v in vs if v is not None]
    if len(points) < 1 or not values:
        return f"<p class='muted'>{escape(title)}: no data yet.</p>"
    hi = y_max if y_max is not None else max(max(values), 1.0) * 1.1
    n = len(points)

    def x(i: int) -> float:
        return left + (width - left - 10) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / hi)

    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" stroke="#c9ced8"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0):.1f}" stroke="#c9ced8"/>',
        f'<text x="{left - 4}" y="{y(hi) + 4:.1f}" text-anchor="end">{hi:.0f}{unit}</text>',
        f'<text x="{left - 4}" y="{y(0) + 4:.1f}" text-anchor="end">0{unit}</text>',
        f'<text x="{x(0):.1f}" y="{height - 8}" text-anchor="start">'
        f"{points[0].started_at:%Y-%m-%d}</text>",
    ]
    if n > 1:
        parts.append(
            f'<text x="{x(n - 1):.1f}" y="{height - 8}" text-anchor="end">'
            f"{points[-1].started_at:%Y-%m-%d}</text>"
        )
    legend_x = left + 6
    for k, (name, vs) in enumerate(series.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        coords = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None]
        if len(coords) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(coords)}"/>'
            )
        for c in coords:
            cx, cy = c.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        parts.append(
            f'<text x="{legend_x}" y="{top + 2}" style="fill:{colour}">{escape(name)}</text>'
        )
        legend_x += 8 + 7 * len(name)
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _items(control: ControlResult) -> str:
    out = []
    if control.worst_systems:
        rows = "".join(
            f"<tr><td>{escape(i.name)}</td><td class='n'>{i.violations}</td>"
            f"<td>{escape(i.detail)}</td></tr>"
            for i in control.worst_systems
        )
        out.append(
            "<table><tr><th>Worst systems</th><th>Violations</th><th></th></tr>" + rows + "</table>"
        )
    if control.worst_patches:
        rows = "".join(
            f"<tr><td>{escape(i.name)}</td><td class='n'>{i.violations}</td></tr>"
            for i in control.worst_patches
        )
        out.append("<table><tr><th>Worst patches</th><th>Systems</th></tr>" + rows + "</table>")
    return "".join(out)


def render_html(report: ComplianceReport) -> str:
    """The report as one self-contained HTML page."""
    title = f"Essential Eight patching compliance — {report.source_name}"
    cards = []
    for s in report.strategies:
        extra = ""
        if report.threshold_pct is not None:
            extra = (
                f"<div class='muted'>Threshold mode (≥ {report.threshold_pct:g} %, "
                f"<b>not ASD's rule</b>): ML{s.threshold_maturity_level}</div>"
            )
        cards.append(
            f"<div class='card'><div class='muted'>{STRATEGY_LABEL.get(s.strategy, s.strategy)}"
            f"</div><div class='big'>{escape(maturity(report, s))}</div>"
            f"<div class='muted'>Blocking next level: {escape(', '.join(s.blocking) or '—')}</div>"
            f"<div class='muted'>Not assessed from PMP data: "
            f"{escape(', '.join(s.not_assessed) or '—')}</div>{extra}</div>"
        )
    rows = []
    for c in ordered(report):
        rows.append(
            f"<tr><td>{_badge(c.outcome)}</td><td>{escape(c.control_id)}</td><td>{levels(c)}</td>"
            f"<td>{escape(c.title)}<div class='muted'>{escape(c.reason)}</div></td>"
            f"<td>{escape(window(c))}</td><td class='n'>{c.systems_in_scope}</td>"
            f"<td class='n'>{c.pairs_in_scope}</td><td class='n'>{c.violations}</td>"
            f"<td class='n'>{c.not_yet_due}</td><td class='n'>{c.no_visibility}</td>"
            f"<td class='n'>{pct(c.pct_compliant)}</td>"
            f"<td>{escape(when(c.oldest_overdue_time))}</td></tr>"
        )
    failing = [c for c in ordered(report) if c.outcome is ControlOutcome.INEFFECTIVE]
    details = "".join(
        f"<h3>{_badge(c.outcome)} {escape(c.control_id)} ({levels(c)}): {escape(c.title)}</h3>"
        f"<p>{escape(c.reason)}.</p>{_items(c)}"
        for c in failing
    )
    trend = list(report.trend)
    charts = [
        _chart(
            "Pairs compliant (%) at the highest level, per strategy",
            trend,
            {
                STRATEGY_LABEL.get(s.strategy, s.strategy): [
                    p.pct_compliant.get(s.strategy) for p in trend
                ]
                for s in report.strategies
            },
            y_max=100.0,
            unit="%",
        ),
        _chart(
            "Missing critical patches",
            trend,
            {
                "distinct patches": [
                    None
                    if p.missing_critical_patches is None
                    else float(p.missing_critical_patches)
                    for p in trend
                ]
            },
        ),
    ]
    assumptions = "".join(f"<li>{escape(line)}</li>" for line in report.assumptions)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<div class='muted'>Snapshot {report.snapshot_id} · "
        f"{escape(when(report.snapshot_started_at))}"
        f" · profile <b>{escape(report.profile)}</b>: {escape(report.profile_title)}</div>"
        f"<h2>Maturity</h2><div class='cards'>{''.join(cards)}</div>"
        "<p class='note'>ASD's rule: a level is achieved only when every control at that level "
        "and below is effective (or not applicable). Controls PMP holds no evidence for are "
        "marked <i>not assessed</i> and need evidence from elsewhere.</p>"
        + (f"<h2>Failing controls</h2>{details}" if details else "")
        + "<h2>All controls (failing first)</h2><table><tr><th>Outcome</th><th>Control</th>"
        "<th>Levels</th><th>Requirement</th><th>Window</th><th>Systems</th><th>Pairs</th>"
        "<th>Violations</th><th>Not yet due</th><th>No visibility</th><th>Compliant</th>"
        f"<th>Oldest overdue</th></tr>{''.join(rows)}</table>"
        f"<h2>Trend</h2>{''.join(charts)}"
        f"<h2>Assumptions</h2><ul>{assumptions}</ul>"
        f"<p class='muted'>{escape(report.profile_description)}</p>"
        "</body></html>\n"
    )
