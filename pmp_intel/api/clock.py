"""Time as a dependency: every wait in the API layer goes through a :class:`Clock`.

Production code uses :data:`SYSTEM_CLOCK`; tests inject a :class:`FakeClock`, whose
``sleep`` advances its own time instantly, so retry and rate-limit tests run in
milliseconds while asserting the exact waits.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time, monotonic time and sleeping."""

    def time(self) -> float:
        """Seconds since the epoch (for HTTP dates and stored token expiry)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep()``, ignoring non-positive values."""
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


class FakeClock:
    """A clock that only moves when told to; ``sleep`` advances it and records the wait."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        #: Every positive wait requested, in order.
        self.sleeps: list[float] = []

    def time(self) -> float:
        """The fake wall time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """The fake monotonic time (same as wall time)."""
        return self.time()

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` at once."""
        if seconds > 0:
            with self._lock:
                self.sleeps.append(seconds)
                self._now += seconds

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep."""
        with self._lock:
            self._now += seconds
