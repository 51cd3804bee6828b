"""Progress and ETA of a run, and the rich progress bar shown on a terminal.

Progress is measured in requests: an endpoint is planned at its page count once the first
page reveals it (one page until then), a fan-out endpoint at one request per parent. The
estimate sharpens as pages arrive, which is what an ETA can honestly offer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when a bar is drawn (never in cron runs)
    from rich.console import Console
    from rich.progress import Progress, TaskID


@dataclass
class _Plan:
    planned: int = 1
    done: int = 0


class RunProgress:
    """Requests planned and done per endpoint; optionally drawn as a rich progress bar."""

    def __init__(
        self,
        endpoints: list[str],
        clock: Callable[[], float],
        console: Console | None = None,
    ) -> None:
        self._plans = {name: _Plan() for name in endpoints}
        self._clock = clock
        self._started = clock()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console is not None and console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("starting", total=self.planned)

    @property
    def planned(self) -> int:
        """Requests planned in all."""
        return sum(max(p.planned, p.done) for p in self._plans.values())

    @property
    def done(self) -> int:
        """Requests done."""
        return sum(p.done for p in self._plans.values())

    @property
    def pct(self) -> float:
        """Overall progress, 0–100."""
        planned = self.planned
        return 100.0 * min(self.done, planned) / planned if planned else 100.0

    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far, or None before anything is done."""
        done, planned = self.done, self.planned
        if done == 0:
            return None
        elapsed = self._clock() - self._started
        return max(0.0, elapsed * (planned - done) / done)

    def plan(self, endpoint: str, requests: int) -> None:
        """Set how many requests ``endpoint`` needs in all."""
        self._plans.setdefault(endpoint, _Plan()).planned = max(1, requests)
        self._redraw(endpoint)

    def advance(self, endpoint: str, requests: int = 1) -> None:
        """Count ``requests`` done for ``endpoint``."""
        self._plans.setdefault(endpoint, _Plan()).done += requests
        self._redraw(endpoint)

    def finish(self, endpoint: str) -> None:
        """``endpoint`` is done (or skipped): its plan shrinks to what was done."""
        plan = self._plans.setdefault(endpoint, _Plan())
        plan.planned = plan.done
        self._redraw(endpoint)

    def _redraw(self, endpoint: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task, description=endpoint, total=self.planned, completed=self.done
            )

    def close(self) -> None:
        """Stop drawing."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
