"""Read-ahead: the next page's request goes out while the current page is being processed.

A paged endpoint is read one page after another, and without read-ahead the client sits idle
while the server builds each page (and while the answer crosses the network), then the
server sits idle while the client validates and stores it. :class:`ReadAhead` runs the next
request on one background thread so the two overlap. Answers are still taken one at a time,
in page order, by the thread that iterates; the page guards never see a difference.

Closing (or leaving the ``with`` block, which also happens when the iterating generator is
closed early) cancels requests not yet sent and waits for the one in flight, so every
attempt has been reported before the caller counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["ReadAhead"]


class ReadAhead(Generic[T]):
    """Calls started ahead of need on one background thread, taken back by key."""

    def __init__(self, name: str, *, enabled: bool = True) -> None:
        self.name = name
        self.enabled = enabled
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[int, Future[T]] = {}

    def start(self, key: int, call: Callable[[], T]) -> None:
        """Start ``call`` in the background unless disabled or ``key`` is already pending."""
        if not self.enabled or key in self._pending:
            return
        if self._pool is None:  # created on first use: most fan-out parents have one page
            self._pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"pmp-ahead-{self.name}"
            )
        self._pending[key] = self._pool.submit(call)

    def take(self, key: int) -> Future[T] | None:
        """The call started for ``key`` (its result re-raises its exception), or None."""
        return self._pending.pop(key, None)

    def close(self) -> None:
        """Drop calls not started yet and wait for the one running."""
        pool, self._pool = self._pool, None
        self._pending.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
