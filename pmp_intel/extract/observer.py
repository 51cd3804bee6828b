"""Turn the API client's events into log lines and per-endpoint counters.

The client calls :meth:`RunObserver.__call__` from worker threads during fan-out, so the
counters are guarded by a lock. Nothing here writes to the database: the extractor copies
the counters into ``endpoint_runs`` at its own commit points.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from pmp_intel.api.errors import Action, ErrorType
from pmp_intel.api.events import (
    AttemptEvent,
    ClientEvent,
    EndpointNotSupportedEvent,
    InvalidRecordEvent,
    PagingEvent,
    TokenRefreshEvent,
)
from pmp_intel.logs import log_event

#: How a failed attempt's action reads in the log's ``action`` field.
_ACTION_WORDS = {
    Action.ACCEPT: "accept",
    Action.REFRESH_AND_RETRY: "refresh_token_and_retry",
    Action.WAIT_AND_RETRY: "wait_and_retry",
    Action.BACKOFF_AND_RETRY: "retry_with_backoff",
    Action.RETRY_ONCE: "retry_once",
    Action.GAP: "record_gap",
    Action.NOT_SUPPORTED: "skip_endpoint",
    Action.FATAL: "abort",
}


@dataclass
class Counters:
    """Requests and errors seen for one endpoint during this run."""

    requests: int = 0
    retries: int = 0
    errors: int = 0
    invalid_records: int = 0
    anomalies: int = 0


class RunObserver:
    """The ``on_event`` callback of one extraction run."""

    def __init__(
        self,
        logger: logging.Logger,
        snapshot_id: Callable[[], int | None],
        on_failure: Callable[[AttemptEvent], None] | None = None,
    ) -> None:
        self.logger = logger
        self._snapshot_id = snapshot_id
        self._on_failure = on_failure
        self._lock = threading.Lock()
        self._counters: dict[str, Counters] = defaultdict(Counters)
        self.errors_total = 0
        self.token_refreshes = 0

    def counters(self, endpoint: str) -> Counters:
        """A copy of the counters of ``endpoint``."""
        with self._lock:
            c = self._counters[endpoint]
            return Counters(c.requests, c.retries, c.errors, c.invalid_records, c.anomalies)

    def take(self, endpoint: str) -> Counters:
        """The counters of ``endpoint``, reset to zero (to add them to the database)."""
        with self._lock:
            return self._counters.pop(endpoint, Counters())

    def __call__(self, event: ClientEvent) -> None:
        snapshot_id = self._snapshot_id()
        if isinstance(event, AttemptEvent):
            self._attempt(event, snapshot_id)
        elif isinstance(event, TokenRefreshEvent):
            with self._lock:
                self.token_refreshes += 1
            log_event(
                self.logger,
                logging.INFO if event.ok else logging.ERROR,
                "token_refreshed" if event.ok else "token_refresh_failed",
                f"token {'refreshed' if event.ok else 'refresh failed'} ({event.reason.value})",
                snapshot_id=snapshot_id,
                reason=event.reason.value,
                provider=event.provider,
                attempt=event.attempt,
                expires_in=event.expires_in,
                http_status=event.http_status,
                error_type=None if event.ok else event.error_type.value,
            )
        elif isinstance(event, PagingEvent):
            with self._lock:
                self._counters[event.endpoint].anomalies += 1
            log_event(
                self.logger,
                logging.WARNING,
                "pagination_anomaly",
                event.detail or event.anomaly.value,
                snapshot_id=snapshot_id,
                endpoint=event.endpoint,
                parent=event.parent,
                page=event.page,
                anomaly=event.anomaly.value,
                expected=event.expected,
                observed=event.observed,
            )
        elif isinstance(event, InvalidRecordEvent):
            with self._lock:
                self._counters[event.endpoint].invalid_records += 1
            log_event(
                self.logger,
                logging.WARNING,
                "record_invalid",
                "a record failed validation and was not stored",
                snapshot_id=snapshot_id,
                endpoint=event.endpoint,
                parent=event.parent,
                page=event.page,
                index=event.index,
                errors=event.errors,
                record_sample=event.record_sample,
            )
        elif isinstance(event, EndpointNotSupportedEvent):
            log_event(
                self.logger,
                logging.INFO,
                "endpoint_not_supported",
                f"{event.endpoint}: {event.detail}",
                snapshot_id=snapshot_id,
                endpoint=event.endpoint,
                http_status=event.http_status,
            )

    def _attempt(self, event: AttemptEvent, snapshot_id: int | None) -> None:
        failed = event.error_type is not ErrorType.OK
        with self._lock:
            counters = self._counters[event.endpoint]
            counters.requests += 1
            if event.attempt > 1:
                counters.retries += 1
            if failed:
                counters.errors += 1
                self.errors_total += 1
        if not failed or event.action is Action.NOT_SUPPORTED:
            return  # an absent optional endpoint is reported once as endpoint_not_supported
        log_event(
            self.logger,
            logging.ERROR if event.action in (Action.GAP, Action.FATAL) else logging.WARNING,
            "page_extraction_failed",
            event.detail or event.error_type.value,
            snapshot_id=snapshot_id,
            endpoint=event.endpoint,
            page=event.page,
            parent=event.parent,
            attempt=event.attempt,
            http_status=event.http_status,
            error_type=event.error_type.value,
            action=_ACTION_WORDS.get(event.action, event.action.value),
            wait_seconds=round(event.wait_seconds, 3),
            response_sample=event.response_sample or None,
        )
        if self._on_failure is not None and event.action in (Action.GAP, Action.FATAL):
            self._on_failure(event)
