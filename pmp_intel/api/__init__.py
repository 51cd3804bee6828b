"""The PMP HTTP client: session, auth, resilience, envelopes and pagination.

See docs/api-client.md. The extractor uses :class:`PMPClient` and the event types; the
redaction helpers live in :mod:`pmp_intel.api.redact` (not re-exported: the module name
must stay importable as ``from pmp_intel.api import redact``).
"""

from pmp_intel.api.auth import (
    AuthProvider,
    OnPremLoginProvider,
    StaticTokenProvider,
    TokenManager,
    ZohoOAuthProvider,
)
from pmp_intel.api.client import PMPClient, provider_from_settings
from pmp_intel.api.clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from pmp_intel.api.errors import (
    RULES,
    Action,
    AuthenticationError,
    EndpointNotSupportedError,
    ErrorType,
    PMPAPIError,
    RequestFailedError,
    TwoFactorRequiredError,
)
from pmp_intel.api.events import (
    AttemptEvent,
    ClientEvent,
    EndpointNotSupportedEvent,
    EventCallback,
    EventCollector,
    InvalidRecordEvent,
    PagingAnomaly,
    PagingEvent,
    RefreshReason,
    TokenRefreshEvent,
)
from pmp_intel.api.paginate import (
    EndpointSpec,
    InvalidRecord,
    Page,
    PageFailure,
    PageOutcome,
    PagingStyle,
)
from pmp_intel.api.ratelimit import TokenBucket
from pmp_intel.api.retry import RetryPolicy, parse_retry_after
from pmp_intel.api.session import Timeouts, build_session
from pmp_intel.api.tokens import KeyringTokenStore, MemoryTokenStore, StoredToken, TokenStore

__all__ = [
    "RULES",
    "SYSTEM_CLOCK",
    "Action",
    "AttemptEvent",
    "AuthProvider",
    "AuthenticationError",
    "ClientEvent",
    "Clock",
    "EndpointNotSupportedError",
    "EndpointNotSupportedEvent",
    "EndpointSpec",
    "ErrorType",
    "EventCallback",
    "EventCollector",
    "FakeClock",
    "InvalidRecord",
    "InvalidRecordEvent",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "OnPremLoginProvider",
    "PMPAPIError",
    "PMPClient",
    "Page",
    "PageFailure",
    "PageOutcome",
    "PagingAnomaly",
    "PagingEvent",
    "PagingStyle",
    "RefreshReason",
    "RequestFailedError",
    "RetryPolicy",
    "StaticTokenProvider",
    "StoredToken",
    "SystemClock",
    "Timeouts",
    "TokenBucket",
    "TokenManager",
    "TokenRefreshEvent",
    "TokenStore",
    "TwoFactorRequiredError",
    "ZohoOAuthProvider",
    "build_session",
    "parse_retry_after",
    "provider_from_settings",
]
