"""Optional Slack notices about an extraction.

Only active when ``SLACK_WEBHOOK_URL`` is set (settings refuse anything but https on the
Slack hooks host). At most one message a minute: messages that arrive sooner are folded
into the next one. A webhook that fails (error status, 404, network) disables notices for
the run with a single warning; it never blocks or fails the extraction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests

from pmp_intel.api.redact import redact, register_secret
from pmp_intel.logs import get_logger, log_event

#: Smallest interval between two messages, in seconds.
MIN_INTERVAL_S = 60.0
TIMEOUT_S = 5.0


class Poster(Protocol):
    """Sends one JSON payload; returns the HTTP status."""

    def __call__(self, url: str, payload: dict[str, Any]) -> int: ...


def post_with_requests(url: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` to ``url`` with a short timeout."""
    return requests.post(url, json=payload, timeout=TIMEOUT_S).status_code


class SlackNotifier:
    """Queues short notices and posts them at most once per ``min_interval`` seconds."""

    def __init__(
        self,
        webhook_url: str | None,
        *,
        post: Poster = post_with_requests,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = MIN_INTERVAL_S,
        logger: logging.Logger | None = None,
    ) -> None:
        self._url = webhook_url or None
        if self._url:
            register_secret(self._url)
        self._post = post
        self._clock = clock
        self._min_interval = min_interval
        self._logger = logger or get_logger("slack")
        self._pending: list[str] = []
        self._last_sent: float | None = None
        self.sent: int = 0
        self.disabled_reason: str | None = None

    @property
    def enabled(self) -> bool:
        """True while notices are configured and the webhook has not failed."""
        return self._url is not None and self.disabled_reason is None

    def notify(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text``; send now unless a message went out less than a minute ago.

        ``urgent`` does not bypass the one-a-minute rule; it only marks the text.
        """
        if not self.enabled:
            return
        self._pending.append(("⚠️ " if urgent else "") + text)
        self._send_if_due()

    def tick(self) -> None:
        """Send queued notices if a minute has passed (call it as work goes on)."""
        if self.enabled and self._pending:
            self._send_if_due()

    def flush(self) -> None:
        """Send whatever is queued, regardless of the interval (end of run)."""
        if self.enabled and self._pending:
            self._send()

    def _send_if_due(self) -> None:
        now = self._clock()
        if self._last_sent is None or now - self._last_sent >= self._min_interval:
            self._send()

    def _send(self) -> None:
        assert self._url is not None
        text = "\n".join(self._pending)
        self._pending.clear()
        self._last_sent = self._clock()
        try:
            status = self._post(self._url, {"text": text})
        except requests.RequestException as exc:
            self._disable(f"{type(exc).__name__}: {redact(str(exc))}")
            return
        if status >= 300:
            self._disable(f"webhook answered HTTP {status}")
            return
        self.sent += 1

    def _disable(self, reason: str) -> None:
        self.disabled_reason = reason
        log_event(
            self._logger,
            logging.WARNING,
            "slack_disabled",
            "Slack notices disabled for this run",
            reason=reason,
        )
