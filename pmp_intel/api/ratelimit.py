"""A thread-safe token bucket: ``PMP_RATE_LIMIT`` requests per second across all threads.

Each :meth:`TokenBucket.acquire` reserves the next free slot under a lock and sleeps
outside it, so concurrent callers queue fairly and never exceed ``rate`` on average nor
``burst`` at once. The clock is injectable; with a :class:`~pmp_intel.api.clock.FakeClock`
the waits are recorded instead of slept.
"""

from __future__ import annotations

import threading

from pmp_intel.api.clock import SYSTEM_CLOCK, Clock


class TokenBucket:
    """Token bucket with ``rate`` tokens per second and room for ``burst`` tokens."""

    def __init__(self, rate: float, burst: float = 1.0, clock: Clock = SYSTEM_CLOCK) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = clock.monotonic()

    def reserve(self) -> float:
        """Take one token and return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a request may go out; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._clock.sleep(wait)
        return wait
