"""One measured benchmark figure, and the table a list of them renders to.

Every benchmark's ``main(argv)`` returns a list of :class:`Figure`; ``run_all.py`` collects
them, prints one table, writes ``results.md`` and, in CI, compares the *gated* ratios with
``reference.json``. A ratio is measured in the same run against something named by
``ratio_of`` (a baseline doing the same work at the minimum, a bare client, a target), so it
survives a loaded machine better than an absolute time. Lower is better unless
``higher_is_better``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HEADERS = ("figure", "target", "measured", "ratio", "CI gate")


@dataclass(frozen=True)
class Figure:
    """One figure of one benchmark run.

    ``value``/``unit`` are what was measured (``None`` when nothing was, e.g. a benchmark
    that failed; ``note`` then says why; otherwise it qualifies the value, e.g. the estate
    size). ``ratio`` is the measured figure divided by ``ratio_of`` in the same run, or
    ``None``. ``gated`` figures are checked in CI against the committed reference ratio, so
    their ``name`` must stay the same across runs and sizes.
    """

    name: str
    target: str
    value: float | None
    unit: str = ""
    ratio: float | None = None
    ratio_of: str = "baseline"
    gated: bool = False
    higher_is_better: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is not None and not (math.isfinite(self.ratio) and self.ratio >= 0):
            raise ValueError(f"{self.name}: ratio must be a finite number ≥ 0, not {self.ratio}")
        if self.gated and self.ratio is None:
            raise ValueError(f"{self.name}: a gated figure needs a ratio")

    @property
    def measured(self) -> str:
        """The value with its unit and the note in brackets, or the note alone when nothing
        was measured."""
        if self.value is None:
            return self.note or "—"
        shown = f"{format_number(self.value)} {self.unit}".strip()
        return f"{shown} ({self.note})" if self.note else shown

    @property
    def ratio_text(self) -> str:
        """``1.85x baseline``, ``0.23x client time`` or ``—``."""
        if self.ratio is None:
            return "—"
        return f"{self.ratio:.2f}x {self.ratio_of}".strip()

    def cells(self) -> tuple[str, str, str, str, str]:
        """The table row: figure, target, measured, ratio, CI gate."""
        gate = ("yes, higher is better" if self.higher_is_better else "yes") if self.gated else ""
        return (self.name, self.target, self.measured, self.ratio_text, gate)


def format_number(value: float) -> str:
    """Three significant figures or so, thousands separated: 1,460 · 94.1 · 3.70 · 0.052."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def render_text(figures: Sequence[Figure]) -> str:
    """A plain-text table with aligned columns, for a terminal or a CI log."""
    rows = [HEADERS, *(f.cells() for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_markdown(figures: Sequence[Figure]) -> str:
    """A Markdown (GitHub) table; ``|`` inside a cell is escaped."""

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(HEADERS), "|" + "---|" * len(HEADERS)]
    lines.extend(row(f.cells()) for f in figures)
    return "\n".join(lines) + "\n"
