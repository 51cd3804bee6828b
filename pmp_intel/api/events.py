"""Typed events the API layer reports to its ``on_event`` callback.

The extractor turns them into log lines (design.md §3 "Logs"), counters and gap records.
No event carries a secret: response samples are redacted (:mod:`pmp_intel.api.redact`) and
request parameters are the endpoint's own query parameters, never credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pmp_intel.api.errors import Action, ErrorType


@dataclass(frozen=True)
class AttemptEvent:
    """One HTTP attempt and what the policy did about it."""

    endpoint: str
    page: int | None
    parent: str | None
    attempt: int
    http_status: int | None
    error_type: ErrorType
    action: Action
    wait_seconds: float
    response_sample: str = ""
    detail: str = ""
    elapsed_s: float = 0.0
    event_type: str = "request_attempt"


class RefreshReason(StrEnum):
    """Why a token was (re)obtained."""

    INITIAL = "initial"
    PROACTIVE = "proactive"
    UNAUTHORIZED = "401"


@dataclass(frozen=True)
class TokenRefreshEvent:
    """One token grant or login attempt."""

    provider: str
    reason: RefreshReason
    attempt: int
    ok: bool
    error_type: ErrorType = ErrorType.OK
    http_status: int | None = None
    wait_seconds: float = 0.0
    expires_in: float | None = None
    detail: str = ""
    event_type: str = "token_refreshed"


class PagingAnomaly(StrEnum):
    """A pagination guard that fired."""

    REPEATED_PAGE = "repeated_page"  # the same records as the previous page: stop
    TOTAL_CHANGED = "total_changed"  # ``total`` moved between pages: continue, re-plan
    SHORT_PAGE = "short_page"  # fewer records than ``limit`` before the last page
    EMPTY_BEFORE_TOTAL = "empty_before_total"  # empty page while ``total`` says more remain
    OVER_TOTAL = "over_total"  # more records than ``total`` announced
    LIMIT_IGNORED = "limit_ignored"  # the server did not honour ``pagelimit``
    PAGE_CAP = "page_cap"  # the hard page cap was reached without an end
    COUNT_MISMATCH = "count_mismatch"  # records received ≠ ``total`` at the end


@dataclass(frozen=True)
class PagingEvent:
    """A pagination guard fired (reported, never silently accepted)."""

    endpoint: str
    parent: str | None
    page: int
    anomaly: PagingAnomaly
    expected: int | None = None
    observed: int | None = None
    detail: str = ""
    event_type: str = "pagination_anomaly"


@dataclass(frozen=True)
class InvalidRecordEvent:
    """A record that failed validation: reported with its page, never silently lost."""

    endpoint: str
    parent: str | None
    page: int
    index: int
    errors: str
    record_sample: str = ""
    event_type: str = "record_invalid"


@dataclass(frozen=True)
class EndpointNotSupportedEvent:
    """An optional endpoint answered 404 (not on this server) or 403 (outside the token's
    scopes): it is skipped."""

    endpoint: str
    http_status: int | None = 404
    detail: str = "not supported by this server"
    event_type: str = "endpoint_not_supported"


ClientEvent = (
    AttemptEvent | TokenRefreshEvent | PagingEvent | InvalidRecordEvent | EndpointNotSupportedEvent
)

#: The callback type: receives every event, must not raise (exceptions are logged and ignored).
EventCallback = Callable[[ClientEvent], None]


@dataclass
class EventCollector:
    """An ``on_event`` callback that keeps every event (for tests and summaries)."""

    events: list[ClientEvent] = field(default_factory=list)

    def __call__(self, event: ClientEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        """The events of one class."""
        return [e for e in self.events if isinstance(e, kind)]
