"""``PMPClient``: the session, auth, rate limiter, resilience policy, envelope parsing and
pagination tied together.

The extractor calls::

    client = PMPClient.from_settings(settings, on_event=handler)
    for outcome in client.iter_pages(endpoint, start_page=n):      # paged / dcapi / single
        ...                                                         # Page or PageFailure
    for outcome in client.iter_fan_out(endpoint, parents):          # per system / patch
        ...
    page = client.get_page(endpoint, page=7)                        # refill one gap

Every attempt is reported as an :class:`~pmp_intel.api.events.AttemptEvent`; a page that
still fails after its budget comes back as a :class:`~pmp_intel.api.paginate.PageFailure`
(iterators) or raises :class:`~pmp_intel.api.errors.RequestFailedError` (``get_page``).
Authentication failures (3 consecutive 401s, refused grant) and TLS failures raise.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests

from pmp_intel.api import redact
from pmp_intel.api.auth import (
    AuthProvider,
    OnPremLoginProvider,
    StaticTokenProvider,
    TokenManager,
    ZohoOAuthProvider,
)
from pmp_intel.api.clock import SYSTEM_CLOCK, Clock
from pmp_intel.api.envelope import Envelope, EnvelopeError, decode_json, parse
from pmp_intel.api.errors import (
    Action,
    AuthenticationError,
    EndpointNotSupportedError,
    ErrorType,
    PMPAPIError,
    RequestFailedError,
    not_supported_reason,
)
from pmp_intel.api.events import (
    AttemptEvent,
    ClientEvent,
    EndpointNotSupportedEvent,
    EventCallback,
    InvalidRecordEvent,
    RefreshReason,
)
from pmp_intel.api.paginate import (
    DEFAULT_MAX_PAGES,
    EndpointSpec,
    Fetched,
    Page,
    PageFailure,
    PageOutcome,
    PagingStyle,
    iter_page_numbers,
)
from pmp_intel.api.ratelimit import TokenBucket
from pmp_intel.api.readahead import ReadAhead
from pmp_intel.api.regions import accounts_url_for
from pmp_intel.api.retry import AttemptResult, Decision, RetryPolicy, parse_retry_after
from pmp_intel.api.session import Timeouts, build_session
from pmp_intel.api.tokens import TokenStore
from pmp_intel.errors import ConfigurationError
from pmp_intel.settings import AuthMode, Settings

log = logging.getLogger(__name__)

Validator = Callable[[Envelope], ErrorType | None]


def _no_check(envelope: Envelope) -> ErrorType | None:
    return None


def provider_from_settings(settings: Settings) -> AuthProvider:
    """The auth provider ``settings`` describe (``PMP_AUTH``)."""
    if not settings.base_url:
        raise ConfigurationError("PMP_BASE_URL is not set")
    if settings.auth is AuthMode.OAUTH:
        if (
            not settings.client_id
            or settings.client_secret is None
            or (settings.refresh_token is None)
        ):
            raise ConfigurationError(
                "PMP_AUTH=oauth needs PMP_CLIENT_ID, PMP_CLIENT_SECRET and PMP_REFRESH_TOKEN"
            )
        return ZohoOAuthProvider(
            accounts_url_for(settings.base_url, settings.accounts_url),
            settings.client_id,
            settings.client_secret,
            settings.refresh_token,
        )
    if settings.auth is AuthMode.ONPREM:
        if not settings.username or settings.password is None:
            raise ConfigurationError("PMP_AUTH=onprem needs PMP_USERNAME and PMP_PASSWORD")
        if settings.auth_type.value == "ad_authentication" and not settings.domain:
            raise ConfigurationError("PMP_AUTH_TYPE=ad_authentication needs PMP_DOMAIN")
        return OnPremLoginProvider(
            settings.base_url,
            settings.username,
            settings.password,
            settings.auth_type.value,
            settings.domain,
        )
    if settings.token is None:
        raise ConfigurationError("PMP_AUTH=token needs PMP_TOKEN")
    return StaticTokenProvider(settings.token)


class PMPClient:
    """Reads PMP endpoints resiliently. Thread-safe; one instance per extraction."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenManager,
        *,
        session: requests.Session | None = None,
        rate_limiter: TokenBucket | None = None,
        policy: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        page_limit: int = 1000,
        concurrency: int = 4,
        clock: Clock = SYSTEM_CLOCK,
        on_event: EventCallback | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        read_ahead: bool = True,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError("the PMP base URL must be an http(s) URL with a host")
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.session = session or tokens.session
        self.clock = clock
        self.rate_limiter = rate_limiter or TokenBucket(4.0, clock=clock)
        self.policy = policy or RetryPolicy(clock=clock)
        self.timeouts = timeouts or Timeouts()
        self.page_limit = page_limit
        self.concurrency = max(1, concurrency)
        self.max_pages = max_pages
        #: Request page ``n + 1`` of a paged endpoint while page ``n`` is processed.
        self.read_ahead = read_ahead
        self.on_event = on_event
        if tokens.on_event is None:
            tokens.on_event = on_event

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_event: EventCallback | None = None,
        token_store: TokenStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
        session: requests.Session | None = None,
        provider: AuthProvider | None = None,
    ) -> PMPClient:
        """A client configured from :class:`~pmp_intel.settings.Settings`."""
        for secret in settings.secret_values():
            redact.register_secret(secret)
        if not settings.base_url:
            raise ConfigurationError("PMP_BASE_URL is not set")
        provider = provider or provider_from_settings(settings)
        session = session or build_session(
            verify_tls=settings.verify_tls,
            ca_bundle=settings.ca_bundle,
            pool_size=settings.concurrency,
        )
        timeouts = Timeouts(settings.connect_timeout, settings.read_timeout)
        policy = RetryPolicy(max_attempts=settings.max_attempts, clock=clock)
        tokens = TokenManager(
            provider,
            session,
            store=token_store,
            clock=clock,
            timeouts=timeouts,
            backoff=policy,
            on_event=on_event,
        )
        return cls(
            settings.base_url,
            tokens,
            session=session,
            rate_limiter=TokenBucket(settings.rate_limit, clock=clock),
            policy=policy,
            timeouts=timeouts,
            page_limit=settings.page_limit,
            concurrency=settings.concurrency,
            clock=clock,
            on_event=on_event,
            read_ahead=settings.read_ahead,
        )

    # --- events --------------------------------------------------------------------------
    def emit(self, event: ClientEvent) -> None:
        """Send ``event`` to the callback (a failing callback is logged, never raised)."""
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            log.exception("on_event callback failed")

    # --- one request ---------------------------------------------------------------------
    def _attempt(
        self, spec: EndpointSpec, params: Mapping[str, Any], validate: Validator
    ) -> AttemptResult:
        self.rate_limiter.acquire()
        headers, generation = self.tokens.header()
        url = self.base_url + spec.url_path
        started = self.clock.monotonic()

        def done(error: ErrorType, **kwargs: Any) -> AttemptResult:
            return AttemptResult(
                error,
                token_generation=generation,
                elapsed_s=max(0.0, self.clock.monotonic() - started),
                **kwargs,
            )

        try:
            response = self.session.get(
                url,
                params=dict(params),
                headers=headers,
                timeout=self.timeouts.as_tuple(),
                verify=self.session.verify,  # see session.py: REQUESTS_CA_BUNDLE would win
            )
        except requests.exceptions.SSLError:
            return done(ErrorType.TLS_ERROR, detail="TLS verification failed")
        except requests.Timeout:
            return done(ErrorType.TIMEOUT, detail="timed out")
        except requests.exceptions.ChunkedEncodingError:
            return done(ErrorType.CONNECTION_ERROR, detail="connection broke mid-body")
        except requests.RequestException as exc:
            return done(ErrorType.CONNECTION_ERROR, detail=type(exc).__name__)
        status = response.status_code
        self.tokens.record_status(status)
        body = response.content
        content_type = response.headers.get("Content-Type")
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.time())

        def failed(error: ErrorType, detail: str) -> AttemptResult:
            return done(
                error,
                http_status=status,
                retry_after=retry_after,
                sample=redact.sample(body),
                detail=detail,
            )

        if status == 401:
            return failed(ErrorType.UNAUTHORIZED, "HTTP 401")
        if status == 403:
            return failed(ErrorType.FORBIDDEN, "HTTP 403 (missing OAuth scope?)")
        if status == 404:
            return failed(ErrorType.NOT_FOUND, "HTTP 404")
        if status == 429:
            return failed(ErrorType.RATE_LIMITED, "HTTP 429")
        if status >= 500:
            return failed(ErrorType.SERVER_ERROR, f"HTTP {status}")
        if status >= 300:
            return failed(ErrorType.CLIENT_ERROR, f"HTTP {status}")
        try:
            document = decode_json(body, content_type)
            envelope = parse(document, spec.paging.envelope, spec.record_keys)
        except EnvelopeError as exc:
            return failed(exc.error_type, exc.detail)
        problem = validate(envelope)
        if problem is not None:
            return failed(problem, "empty page while total says more remain")
        return done(ErrorType.OK, value=envelope, http_status=status)

    def fetch(
        self,
        spec: EndpointSpec,
        params: Mapping[str, Any],
        *,
        page: int = 1,
        parent: str | None = None,
        validate: Validator = _no_check,
    ) -> Fetched | PageFailure:
        """One request under the resilience policy: the envelope, or a failure to record.

        Raises :class:`AuthenticationError` (fatal 401 rule, refused grant) and
        :class:`PMPAPIError` for TLS failures.
        """

        def on_attempt(number: int, result: AttemptResult, decision: Decision) -> None:
            self.emit(
                AttemptEvent(
                    endpoint=spec.name,
                    page=page,
                    parent=parent,
                    attempt=number,
                    http_status=result.http_status,
                    error_type=result.error_type,
                    action=decision.action,
                    wait_seconds=decision.wait,
                    response_sample=result.sample,
                    detail=result.detail,
                    elapsed_s=result.elapsed_s,
                )
            )
            if decision.action is Action.REFRESH_AND_RETRY:
                self.tokens.refresh(RefreshReason.UNAUTHORIZED, result.token_generation)

        result, decision, attempts = self.policy.run(
            lambda: self._attempt(spec, params, validate),
            consecutive_401=lambda: self.tokens.consecutive_401,
            on_attempt=on_attempt,
            optional=spec.optional,
        )
        if decision.action is Action.ACCEPT:
            return Fetched(result.value, attempts)
        if decision.action is Action.FATAL:
            if result.error_type is ErrorType.UNAUTHORIZED:
                raise AuthenticationError(
                    f"{self.policy.max_consecutive_401} consecutive HTTP 401 answers after "
                    f"refreshing the token ({spec.name}): the credentials are not accepted "
                    "or lack the scope (PatchManagerPlusCloud.PatchMgmt.READ, "
                    "PatchManagerPlusCloud.Common.READ)",
                    error_type=ErrorType.UNAUTHORIZED,
                    http_status=401,
                    endpoint=spec.name,
                    page=page,
                    parent=parent,
                    attempts=attempts,
                    sample=result.sample,
                )
            raise PMPAPIError(
                f"{spec.name}: {result.detail or result.error_type.value} "
                "(check PMP_VERIFY_TLS / PMP_CA_BUNDLE)"
                if result.error_type is ErrorType.TLS_ERROR
                else f"{spec.name}: {result.detail or result.error_type.value}",
                error_type=result.error_type,
                http_status=result.http_status,
                endpoint=spec.name,
                page=page,
                parent=parent,
                attempts=attempts,
            )
        if decision.action is Action.NOT_SUPPORTED:
            self.emit(
                EndpointNotSupportedEvent(
                    spec.name, result.http_status, not_supported_reason(result.http_status)
                )
            )
        return PageFailure(
            endpoint=spec.name,
            number=page,
            parent=parent,
            error_type=result.error_type,
            action=decision.action,
            http_status=result.http_status,
            attempts=attempts,
            sample=result.sample,
            detail=not_supported_reason(result.http_status)
            if decision.action is Action.NOT_SUPPORTED
            else result.detail,
        )

    # --- pages ---------------------------------------------------------------------------
    def _make_page(
        self, spec: EndpointSpec, parent: str | None
    ) -> Callable[[int, Envelope, int, int | None, int | None], Page]:
        def make(
            number: int,
            envelope: Envelope,
            attempts: int,
            limit: int | None,
            last_page: int | None,
        ) -> Page:
            records, invalid = spec.parse_records(envelope.records)
            for bad in invalid:
                self.emit(
                    InvalidRecordEvent(
                        endpoint=spec.name,
                        parent=parent,
                        page=number,
                        index=bad.index,
                        errors=redact.redact(bad.errors),
                        record_sample=redact.sample(repr(bad.raw), 512),
                    )
                )
            return Page(
                endpoint=spec.name,
                number=number,
                parent=parent,
                records=records,
                raw=envelope.records,
                invalid=invalid,
                total=envelope.total,
                limit=limit,
                last_page=last_page,
                attempts=attempts,
            )

        return make

    def _page_size(self, spec: EndpointSpec) -> int:
        cap = getattr(spec, "max_page_size", None)
        return min(self.page_limit, cap) if isinstance(cap, int) and cap > 0 else self.page_limit

    def iter_pages(
        self,
        spec: EndpointSpec,
        params: Mapping[str, Any] | None = None,
        *,
        start_page: int = 1,
        parent: str | int | None = None,
        max_pages: int | None = None,
    ) -> Iterator[PageOutcome]:
        """Stream an endpoint page by page (one object for single-object endpoints).

        For fan-out endpoints pass ``parent`` (a resource or patch id) or use
        :meth:`iter_fan_out`.
        """
        query: dict[str, Any] = dict(params or {})
        parent_key = None if parent is None else str(parent)
        if spec.paging.fan_out:
            if parent_key is None or spec.parent_param is None:
                raise ValueError(f"{spec.name} is read per parent: pass parent=")
            query[spec.parent_param] = parent_key
        if spec.paging is PagingStyle.SINGLE:
            outcome = self.fetch(spec, query, page=1, parent=parent_key)
            if isinstance(outcome, PageFailure):
                yield outcome
                return
            yield self._make_page(spec, parent_key)(1, outcome.envelope, outcome.attempts, None, 1)
            return

        def fetch(number: int, q: Mapping[str, Any], validate: Validator) -> Fetched | PageFailure:
            return self.fetch(spec, q, page=number, parent=parent_key, validate=validate)

        with ReadAhead[Fetched | PageFailure](spec.name, enabled=self.read_ahead) as ahead:
            yield from iter_page_numbers(
                endpoint=spec.name,
                parent=parent_key,
                fetch=fetch,
                make_page=self._make_page(spec, parent_key),
                report=self.emit,
                params=query,
                size_param=spec.paging.page_size_param,
                page_size=self._page_size(spec),
                start_page=start_page,
                max_pages=max_pages or self.max_pages,
                read_ahead=ahead,
            )

    def get_page(
        self,
        spec: EndpointSpec,
        page: int = 1,
        params: Mapping[str, Any] | None = None,
        *,
        parent: str | int | None = None,
    ) -> Page:
        """Exactly one page (e.g. to refill a gap). Raises :class:`RequestFailedError` or
        :class:`EndpointNotSupportedError` when it cannot be read."""
        query: dict[str, Any] = dict(params or {})
        parent_key = None if parent is None else str(parent)
        if spec.paging.fan_out and spec.parent_param and parent_key is not None:
            query[spec.parent_param] = parent_key
        if spec.paging is not PagingStyle.SINGLE:
            query["page"] = page
            size_param = spec.paging.page_size_param
            if size_param:
                query[size_param] = self._page_size(spec)
        outcome = self.fetch(spec, query, page=page, parent=parent_key)
        if isinstance(outcome, PageFailure):
            error = EndpointNotSupportedError if outcome.not_supported else RequestFailedError
            raise error(
                f"{spec.name} page {page}"
                + (f" (parent {parent_key})" if parent_key else "")
                + f": {outcome.detail or outcome.error_type.value} after "
                f"{outcome.attempts} attempt(s)",
                error_type=outcome.error_type,
                http_status=outcome.http_status,
                endpoint=spec.name,
                page=page,
                parent=parent_key,
                attempts=outcome.attempts,
                sample=outcome.sample,
            )
        envelope = outcome.envelope
        return self._make_page(spec, parent_key)(
            page, envelope, outcome.attempts, envelope.limit, None
        )

    def iter_fan_out(
        self,
        spec: EndpointSpec,
        parents: Iterable[str | int],
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[PageOutcome]:
        """Read a fan-out endpoint once per parent with ``concurrency`` workers.

        Pages come back grouped by parent, in the order of ``parents``; at most
        ``2 × concurrency`` parents are in flight, so memory stays bounded. An
        :class:`AuthenticationError` in any worker stops the whole fan-out.
        """
        window = 2 * self.concurrency

        def read(parent: str | int) -> list[PageOutcome]:
            return list(self.iter_pages(spec, params, parent=parent))

        pending: deque[Future[list[PageOutcome]]] = deque()
        with ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix=f"pmp-{spec.name}"
        ) as pool:
            try:
                for parent in parents:
                    pending.append(pool.submit(read, parent))
                    if len(pending) >= window:
                        yield from pending.popleft().result()
                while pending:
                    yield from pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> PMPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PMPClient(base_url={self.base_url!r}, auth={self.tokens.provider.kind!r})"
