"""Compliance reports: Markdown, self-contained HTML (inline CSS and SVG, no external
resources) and JSON."""

from __future__ import annotations

import json

from pmp_intel.analyse.compliance import ComplianceReport
from pmp_intel.analyse.report.html import render_html
from pmp_intel.analyse.report.markdown import render_markdown

FORMATS = ("md", "html", "json")


def render_json(report: ComplianceReport) -> str:
    """The report as indented JSON."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"


def render_report(report: ComplianceReport, format: str = "md") -> str:
    """Render ``report`` as ``md``, ``html`` or ``json``."""
    if format in ("md", "markdown"):
        return render_markdown(report)
    if format == "html":
        return render_html(report)
    if format == "json":
        return render_json(report)
    raise ValueError(f"unknown report format {format!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render_html", "render_json", "render_markdown", "render_report"]
