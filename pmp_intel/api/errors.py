"""Outcome classification and the exceptions of the API layer.

Every HTTP attempt ends in one :class:`ErrorType` (``OK`` included); :data:`RULES` says
what the resilience policy does about it (design.md §4). The exceptions extend
:class:`pmp_intel.errors.PMPIntelError`, carry no secret, and name the endpoint, page and
error type so the extractor can turn them into gap records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pmp_intel.api.redact import redact
from pmp_intel.errors import PMPIntelError


class ErrorType(StrEnum):
    """What one attempt ended in."""

    OK = "ok"
    UNAUTHORIZED = "unauthorized"  # HTTP 401
    FORBIDDEN = "forbidden"  # HTTP 403 (missing OAuth scope)
    NOT_FOUND = "not_found"  # HTTP 404
    RATE_LIMITED = "rate_limited"  # HTTP 429
    HTML_THROTTLE = "html_throttle"  # an HTML page instead of JSON (HTTP 200 or other)
    SERVER_ERROR = "server_error"  # HTTP 5xx
    TIMEOUT = "timeout"  # connect or read timeout
    CONNECTION_ERROR = "connection_error"  # refused, reset, DNS
    TLS_ERROR = "tls_error"  # certificate verification failed
    CLIENT_ERROR = "client_error"  # any other HTTP 4xx
    INVALID_JSON = "invalid_json"  # empty, truncated or unparsable body
    UNEXPECTED_SHAPE = "unexpected_shape"  # JSON, but not a PMP envelope / no list key
    API_ERROR = "api_error"  # HTTP 200 with status "error"
    API_ERROR_TRANSIENT = "api_error_transient"  # status "error" with a known transient code
    EMPTY_PAGE = "empty_page"  # empty list while ``total`` says more remain
    PAGE_DRIFT = "page_drift"  # the page starts with records the previous page held
    AUTH_FAILED = "auth_failed"  # the token grant or login itself was refused


class Action(StrEnum):
    """What the policy does after an attempt."""

    ACCEPT = "accept"  # success: hand the page on
    REFRESH_AND_RETRY = "refresh_and_retry"  # force a token refresh, retry at once
    WAIT_AND_RETRY = "wait_and_retry"  # throttled: Retry-After, else backoff
    BACKOFF_AND_RETRY = "backoff_and_retry"  # exponential backoff with full jitter
    RETRY_ONCE = "retry_once"  # transfer fault: one more attempt, no wait beyond backoff
    GAP = "gap"  # give up on this request: the extractor records a gap
    NOT_SUPPORTED = "not_supported"  # optional endpoint absent on this server
    FATAL = "fatal"  # stop the extraction


@dataclass(frozen=True)
class Rule:
    """The policy for one :class:`ErrorType`.

    ``action`` is what happens while the attempt budget lasts; ``attempts`` caps the
    attempts for this type (``None``: the policy's ``max_attempts``).
    """

    action: Action
    attempts: int | None = None


#: The resilience table of design.md §4, in one place.
RULES: dict[ErrorType, Rule] = {
    ErrorType.OK: Rule(Action.ACCEPT),
    ErrorType.UNAUTHORIZED: Rule(Action.REFRESH_AND_RETRY),
    ErrorType.RATE_LIMITED: Rule(Action.WAIT_AND_RETRY),
    ErrorType.HTML_THROTTLE: Rule(Action.WAIT_AND_RETRY),
    ErrorType.SERVER_ERROR: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.TIMEOUT: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.CONNECTION_ERROR: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.INVALID_JSON: Rule(Action.RETRY_ONCE, attempts=2),
    ErrorType.UNEXPECTED_SHAPE: Rule(Action.RETRY_ONCE, attempts=2),
    ErrorType.EMPTY_PAGE: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.PAGE_DRIFT: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.API_ERROR_TRANSIENT: Rule(Action.BACKOFF_AND_RETRY),
    ErrorType.API_ERROR: Rule(Action.GAP, attempts=1),
    ErrorType.FORBIDDEN: Rule(Action.GAP, attempts=1),
    ErrorType.CLIENT_ERROR: Rule(Action.GAP, attempts=1),
    ErrorType.NOT_FOUND: Rule(Action.GAP, attempts=1),
    ErrorType.TLS_ERROR: Rule(Action.FATAL, attempts=1),
    ErrorType.AUTH_FAILED: Rule(Action.FATAL, attempts=1),
}

#: ``error_code`` values of a ``status: "error"`` envelope that are worth retrying. PMP
#: documents no code list (pmp-api.md §3c, §8), so this holds only codes that name a
#: transient condition in their text; extend it when a real server shows one.
TRANSIENT_ERROR_CODES: frozenset[str] = frozenset(
    {"INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TOO_MANY_REQUESTS", "RATE_LIMIT_EXCEEDED"}
)


class PMPAPIError(PMPIntelError):
    """Base of the API layer's errors. The message never contains a secret."""

    def __init__(
        self,
        message: str,
        *,
        error_type: ErrorType = ErrorType.CLIENT_ERROR,
        http_status: int | None = None,
        endpoint: str | None = None,
        page: int | None = None,
        parent: str | None = None,
        attempts: int = 0,
        sample: str = "",
    ) -> None:
        # Belt and braces: whatever the caller passed, registered secrets never get through.
        super().__init__(redact(message))
        self.error_type = error_type
        self.http_status = http_status
        self.endpoint = endpoint
        self.page = page
        self.parent = parent
        self.attempts = attempts
        #: Redacted response sample (≤ 1 KB).
        self.sample = sample


class AuthenticationError(PMPAPIError):
    """Authentication failed for good: bad credentials, refused grant, or three
    consecutive 401 answers after refreshing. Fatal for the extraction (exit code 1)."""


class TwoFactorRequiredError(AuthenticationError):
    """The on-premises account has two-factor authentication enabled."""


class RequestFailedError(PMPAPIError):
    """A request still failed after its attempt budget: the extractor records a gap."""

    exit_code = 2


def not_supported_reason(http_status: int | None) -> str:
    """Why an optional endpoint is skipped, from the status it answered."""
    if http_status == 403:
        return "outside the token's scopes (HTTP 403)"
    return "not supported by this server"


class EndpointNotSupportedError(PMPAPIError):
    """An optional endpoint answered 404 ("not supported by this server") or 403 (outside
    the token's scopes)."""

    exit_code = 2
