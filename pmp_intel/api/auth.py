"""Authentication: three providers behind one interface, and the token manager.

Providers (:class:`AuthProvider`) know how to obtain a token and how to put it on a request:

* :class:`ZohoOAuthProvider`: refresh-token grant at ``{accounts}/oauth/v2/token``;
  ``Authorization: Zoho-oauthtoken <token>``; keeps the refresh token when the answer has
  none, adopts a rotated one when it has.
* :class:`OnPremLoginProvider`: ``/api/1.3/desktop/authentication`` with the base64 password,
  local or AD, as a JSON POST, a POST with query parameters or a GET with query parameters
  (the first the server accepts; a refusal of the credentials stops at once);
  ``Authorization: <token>`` with no scheme. A two-factor answer raises
  :class:`~pmp_intel.api.errors.TwoFactorRequiredError`.
* :class:`StaticTokenProvider`: a token (API key) given in ``PMP_TOKEN``; cannot refresh.

:class:`TokenManager` holds the current token: proactive refresh at 80 % of its lifetime
(none when the lifetime is unknown), a forced refresh on 401, single-flight under a lock
when requests run concurrently, 3 retries for a refresh that fails transiently, and the
abort rule of design.md §4 (3 consecutive 401s → :class:`AuthenticationError`).
"""

from __future__ import annotations

import base64
import logging
import math
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, quote_plus

import requests
from pydantic import SecretStr

from pmp_intel.api import redact
from pmp_intel.api.clock import SYSTEM_CLOCK, Clock
from pmp_intel.api.envelope import EnvelopeError, check_error, decode_json, lookup
from pmp_intel.api.errors import AuthenticationError, ErrorType, TwoFactorRequiredError
from pmp_intel.api.events import EventCallback, RefreshReason, TokenRefreshEvent
from pmp_intel.api.retry import RetryPolicy
from pmp_intel.api.session import Timeouts
from pmp_intel.api.tokens import MemoryTokenStore, StoredToken, TokenStore

log = logging.getLogger(__name__)

#: Share of a token's lifetime after which it is refreshed proactively.
REFRESH_AT_FRACTION = 0.8
#: Retries of a token grant that failed transiently (5xx, timeout, throttle page).
REFRESH_RETRIES = 3
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
ONPREM_AUTH_PATH = "/api/1.3/desktop/authentication"
ZOHO_TOKEN_PATH = "/oauth/v2/token"


@dataclass(frozen=True)
class Grant:
    """What a provider obtained."""

    access_token: SecretStr
    expires_in: float | None = None
    refresh_token: SecretStr | None = None


class TransientAuthError(Exception):
    """A grant failed in a way worth retrying. The message carries no secret."""

    def __init__(self, error_type: ErrorType, detail: str, http_status: int | None = None):
        super().__init__(detail)
        self.error_type = error_type
        self.http_status = http_status


class AuthProvider(ABC):
    """Obtains tokens and applies them to requests."""

    #: ``oauth``, ``onprem`` or ``token``.
    kind: str = ""
    #: False when a new token cannot be obtained (static tokens).
    refreshable: bool = True

    @abstractmethod
    def obtain(self, session: requests.Session, timeouts: Timeouts) -> Grant:
        """Obtain a fresh token. Raises :class:`TransientAuthError` for retryable failures,
        :class:`AuthenticationError` for refusals."""

    @abstractmethod
    def header(self, token: str) -> dict[str, str]:
        """The request headers carrying ``token``."""

    @abstractmethod
    def store_key(self) -> str:
        """A secret-free name for this credential in a token store."""

    def secrets(self) -> list[str]:
        """The literal secrets this provider holds (for redaction)."""
        return []

    def adopt(self, stored: StoredToken) -> None:  # noqa: B027 - optional hook
        """Take over state from a stored token (e.g. a rotated refresh token)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r})"


def _request(
    session: requests.Session, method: str, url: str, timeouts: Timeouts, **kwargs: Any
) -> requests.Response:
    # requests' and urllib3's exception texts name the URL, query string (a password) and
    # all: none of them is chained or echoed.
    try:
        return session.request(
            method,
            url,
            timeout=timeouts.as_tuple(),
            allow_redirects=False,
            verify=session.verify,
            **kwargs,
        )
    except requests.exceptions.SSLError:
        raise AuthenticationError(
            "TLS verification failed for the authentication server (check PMP_CA_BUNDLE)",
            error_type=ErrorType.TLS_ERROR,
        ) from None
    except requests.Timeout:
        raise TransientAuthError(ErrorType.TIMEOUT, "timeout") from None
    except requests.ConnectionError:
        raise TransientAuthError(ErrorType.CONNECTION_ERROR, "connection failed") from None
    except requests.RequestException as exc:
        raise TransientAuthError(ErrorType.CONNECTION_ERROR, type(exc).__name__) from None


def _post(
    session: requests.Session, url: str, timeouts: Timeouts, **kwargs: Any
) -> requests.Response:
    return _request(session, "POST", url, timeouts, **kwargs)


def _transient_status(response: requests.Response) -> None:
    status = response.status_code
    if status == 429:
        raise TransientAuthError(ErrorType.RATE_LIMITED, "HTTP 429", status)
    if status >= 500:
        raise TransientAuthError(ErrorType.SERVER_ERROR, f"HTTP {status}", status)


def _json(response: requests.Response) -> Any:
    try:
        return decode_json(response.content, response.headers.get("Content-Type"))
    except EnvelopeError as exc:
        raise TransientAuthError(exc.error_type, exc.detail, response.status_code) from None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return decode_json(response.content, response.headers.get("Content-Type"))
    except EnvelopeError:
        return None


class ZohoOAuthProvider(AuthProvider):
    """Zoho OAuth 2.0 refresh-token grant (PMP cloud)."""

    kind = "oauth"

    def __init__(
        self, accounts_url: str, client_id: str, client_secret: SecretStr, refresh_token: SecretStr
    ) -> None:
        if not client_id or not client_secret.get_secret_value():
            raise AuthenticationError(
                "OAuth needs PMP_CLIENT_ID and PMP_CLIENT_SECRET", error_type=ErrorType.AUTH_FAILED
            )
        if not refresh_token.get_secret_value():
            raise AuthenticationError(
                "OAuth needs PMP_REFRESH_TOKEN", error_type=ErrorType.AUTH_FAILED
            )
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._lock = threading.Lock()

    @property
    def refresh_token(self) -> SecretStr:
        """The refresh token in use (the configured one, or a rotated one)."""
        return self._refresh_token

    def obtain(self, session: requests.Session, timeouts: Timeouts) -> Grant:
        """POST the refresh-token grant (form body: secrets never go into a URL)."""
        response = _post(
            session,
            self.accounts_url + ZOHO_TOKEN_PATH,
            timeouts,
            data={
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "refresh_token": self._refresh_token.get_secret_value(),
            },
        )
        _transient_status(response)
        document = _json(response) if response.content.strip() else {}
        error = document.get("error") if isinstance(document, Mapping) else None
        if response.status_code >= 400 or error:
            # Zoho's error codes are short identifiers; anything else is not echoed.
            reason = (
                error
                if isinstance(error, str) and _ERROR_CODE.fullmatch(error)
                else f"HTTP {response.status_code}"
            )
            raise AuthenticationError(
                f"the Zoho accounts server refused the refresh-token grant ({reason}); "
                "check PMP_CLIENT_ID, PMP_CLIENT_SECRET, PMP_REFRESH_TOKEN and the data "
                "centre (PMP_ACCOUNTS_URL)",
                error_type=ErrorType.AUTH_FAILED,
                http_status=response.status_code,
            )
        if not isinstance(document, Mapping) or not isinstance(document.get("access_token"), str):
            raise TransientAuthError(
                ErrorType.UNEXPECTED_SHAPE,
                "token answer without access_token",
                response.status_code,
            )
        access = SecretStr(document["access_token"])
        redact.register_secret(access.get_secret_value())
        rotated = document.get("refresh_token")
        new_refresh: SecretStr | None = None
        if isinstance(rotated, str) and rotated:
            redact.register_secret(rotated)
            new_refresh = SecretStr(rotated)
            with self._lock:
                self._refresh_token = new_refresh
        expires_in = _seconds(document.get("expires_in"))
        return Grant(access, expires_in, new_refresh or self._refresh_token)

    def header(self, token: str) -> dict[str, str]:
        """``Authorization: Zoho-oauthtoken <token>`` (not Bearer: pmp-api.md §2b)."""
        return {"Authorization": f"Zoho-oauthtoken {token}"}

    def store_key(self) -> str:
        """``oauth:<accounts host>:<client id>``."""
        return f"oauth:{self.accounts_url}:{self.client_id}"

    def secrets(self) -> list[str]:
        """Client secret and refresh token."""
        return [self._client_secret.get_secret_value(), self._refresh_token.get_secret_value()]

    def adopt(self, stored: StoredToken) -> None:
        """Use a refresh token that an earlier run saw rotated."""
        if stored.refresh_token is not None and stored.refresh_token.get_secret_value():
            redact.register_secret(stored.refresh_token.get_secret_value())
            with self._lock:
                self._refresh_token = stored.refresh_token


class LoginForm(StrEnum):
    """How the on-premises login sends its parameters (pmp-api.md §2a: sources disagree)."""

    #: POST with a JSON body (EC-MSP S14). First: the password stays out of URLs and so out
    #: of the server's and any proxy's access logs.
    JSON = "json"
    #: POST with the parameters in the query string (C2).
    POST_QUERY = "post_query"
    #: GET with the parameters in the query string (PMP's own docs, S1).
    GET = "get"


#: The order in which a first login tries the forms.
LOGIN_FORMS = (LoginForm.JSON, LoginForm.POST_QUERY, LoginForm.GET)
_FORM_NAMES = {
    LoginForm.JSON: "JSON POST",
    LoginForm.POST_QUERY: "POST with query parameters",
    LoginForm.GET: "GET with query parameters",
}
# PMP documents no login error codes or texts (pmp-api.md §3c, §11), so a refusal is judged
# by its words. The account is known to the server and further attempts only add to its
# failed-login count:
_ACCOUNT_BLOCKED = re.compile(
    r"\block(?:ed|out)?\b|disabled|suspended|deactivated|\bblocked|expired"
    r"|too many (?:failed|invalid|unsuccessful|wrong|incorrect|login|attempt)",
    re.IGNORECASE,
)
# The server read no (or not all) credentials: the form, not the password, is the problem.
_NOTHING_READ = re.compile(
    r"missing|required|mandatory|empty|blank|null|not (?:provided|specified|given|supplied)"
    r"|no (?:user|password|credential)",
    re.IGNORECASE,
)
# The server read credentials and refused them.
_BAD_CREDENTIALS = re.compile(
    r"password|credential|authenticat|log ?in|sign ?in|user ?name|\buser\b|account",
    re.IGNORECASE,
)


class _Refusal(StrEnum):
    """What a refused login attempt says about the credentials."""

    BLOCKED = "blocked"  # stop: the account is locked, disabled or expired
    CREDENTIALS = "credentials"  # stop, once the server is known to have read them
    FORM = "form"  # try the next form


def _judge(text: str) -> _Refusal:
    if _ACCOUNT_BLOCKED.search(text):
        return _Refusal.BLOCKED
    if _NOTHING_READ.search(text):
        return _Refusal.FORM
    if _BAD_CREDENTIALS.search(text):
        return _Refusal.CREDENTIALS
    return _Refusal.FORM


def _error_text(document: Any) -> str:
    """The human-readable words of an error answer (never echoed: only judged)."""
    if not isinstance(document, Mapping):
        return ""
    words = []
    for key in ("error_description", "errormsg", "message", "error"):
        found = lookup(document, key)
        if found is not None and isinstance(found[1], str):
            words.append(found[1])
    return " ".join(words)


def _safe_code(code: str | None) -> str:
    return code if code is not None and _ERROR_CODE.fullmatch(code) else "?"


class OnPremLoginProvider(AuthProvider):
    """Username/password login of an on-premises server (local or Active Directory).

    The forms of :data:`LOGIN_FORMS` are tried in turn while the server refuses the form
    rather than the credentials; the form that worked is used first on every later login
    of this provider. A refusal of the credentials stops at once (a locked-out account
    costs more than a failed extraction): HTTP 401, HTTP 403 or an error envelope whose
    words name the credentials or a blocked account. The one exception is an HTTP 200
    error envelope naming the credentials in answer to a JSON body the server has never
    been seen to read: legacy servers that ignore a JSON body answer exactly that
    (pmp-api.md §3c), so the query-string form is tried once before giving up.
    """

    kind = "onprem"

    def __init__(
        self,
        base_url: str,
        username: str,
        password: SecretStr,
        auth_type: str = "local_authentication",
        domain: str | None = None,
        *,
        path: str = ONPREM_AUTH_PATH,
    ) -> None:
        if not username or not password.get_secret_value():
            raise AuthenticationError(
                "on-premises login needs PMP_USERNAME and PMP_PASSWORD",
                error_type=ErrorType.AUTH_FAILED,
            )
        if auth_type == "ad_authentication" and not domain:
            raise AuthenticationError(
                "Active Directory login (PMP_AUTH_TYPE=ad_authentication) needs PMP_DOMAIN",
                error_type=ErrorType.AUTH_FAILED,
            )
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self._encoded = base64.b64encode(password.get_secret_value().encode("utf-8")).decode()
        self.auth_type = auth_type
        self.domain = domain
        self.path = path
        #: The form the server last accepted (None until a login succeeds).
        self.form: LoginForm | None = None

    def _params(self) -> dict[str, str]:
        params = {
            "username": self.username,
            "password": self._encoded,
            "auth_type": self.auth_type,
        }
        if self.domain:
            params["domainName"] = self.domain
        return params

    def _forms(self) -> list[LoginForm]:
        known = self.form
        return [known, *(f for f in LOGIN_FORMS if f is not known)] if known else [*LOGIN_FORMS]

    def _send(
        self, session: requests.Session, timeouts: Timeouts, form: LoginForm
    ) -> requests.Response:
        url = self.base_url + self.path
        if form is LoginForm.JSON:
            return _request(session, "POST", url, timeouts, json=self._params())
        method = "GET" if form is LoginForm.GET else "POST"
        return _request(session, method, url, timeouts, params=self._params())

    def obtain(self, session: requests.Session, timeouts: Timeouts) -> Grant:
        """Log in, trying the forms in turn (see the class docstring)."""
        tried: list[str] = []
        last_status: int | None = None
        for form in self._forms():
            response = self._send(session, timeouts, form)
            _transient_status(response)
            last_status = response.status_code
            outcome = self._read(response, form)
            if isinstance(outcome, Grant):
                self.form = form
                return outcome
            tried.append(f"{_FORM_NAMES[form]}: {outcome}")
        raise AuthenticationError(
            f"the server accepted none of the login forms for user {self.username!r} "
            f"({'; '.join(tried)}); check PMP_BASE_URL, PMP_USERNAME, PMP_PASSWORD, "
            "PMP_AUTH_TYPE and PMP_DOMAIN",
            error_type=ErrorType.AUTH_FAILED,
            http_status=last_status,
        )

    def _refused(self, reason: str, status: int) -> AuthenticationError:
        return AuthenticationError(
            f"the server refused the login of user {self.username!r} ({reason}); "
            "check PMP_USERNAME, PMP_PASSWORD, PMP_AUTH_TYPE and PMP_DOMAIN",
            error_type=ErrorType.AUTH_FAILED,
            http_status=status,
        )

    def _read(self, response: requests.Response, form: LoginForm) -> Grant | str:
        """The grant, or why this form was refused (to try the next one); raises when the
        credentials were refused or the failure is transient."""
        status = response.status_code
        if status == 401:
            raise self._refused("HTTP 401", status)
        if status >= 400:
            if status == 403 and _judge(_error_text(_json_or_none(response))) is not _Refusal.FORM:
                raise self._refused("HTTP 403", status)
            return f"HTTP {status}"
        document = _json(response)
        try:
            check_error(document)
        except EnvelopeError as exc:
            code = _safe_code(exc.error_code)
            if exc.error_type is ErrorType.API_ERROR_TRANSIENT:
                raise TransientAuthError(exc.error_type, f"error_code={code}", status) from None
            verdict = _judge(_error_text(document))
            unread_json = form is LoginForm.JSON and self.form is not LoginForm.JSON
            if verdict is _Refusal.BLOCKED or (verdict is _Refusal.CREDENTIALS and not unread_json):
                raise self._refused(f"error_code={code}", status) from None
            return f"error_code={code}"
        return self._grant(document, status)

    def _grant(self, document: Any, status: int) -> Grant:
        auth = _dig(document, "message_response", "authentication")
        token = _dig(auth, "auth_data", "auth_token")
        if token is None:
            token = _dig(auth, "authtoken")
        two_factor = _dig(auth, "two_factor_data")
        if not isinstance(token, str) or not token:
            if isinstance(two_factor, Mapping) and _truthy(
                lookup(two_factor, "is_TwoFactor_Enabled")
            ):
                raise TwoFactorRequiredError(
                    f"user {self.username!r} has two-factor authentication enabled: the login "
                    "needs a one-time password (OTP), which an unattended extraction cannot "
                    "supply. Use an account without two-factor authentication for the API, "
                    "or an API key with PMP_AUTH=token and PMP_TOKEN",
                    error_type=ErrorType.AUTH_FAILED,
                    http_status=status,
                )
            raise TransientAuthError(
                ErrorType.UNEXPECTED_SHAPE,
                "login answer without auth_token",
                status,
            )
        redact.register_secret(token)
        # PMP documents no lifetime for this token (pmp-api.md §2a): None means "refresh on
        # 401 only" in the TokenManager.
        return Grant(SecretStr(token), None)

    def header(self, token: str) -> dict[str, str]:
        """``Authorization: <token>`` with no scheme (pmp-api.md §2a)."""
        return {"Authorization": token}

    def store_key(self) -> str:
        """``onprem:<server>:<user>``."""
        return f"onprem:{self.base_url}:{self.username}"

    def secrets(self) -> list[str]:
        """The password: plain, base64-encoded, and base64 as it appears in a query string."""
        plain, encoded = self._password.get_secret_value(), self._encoded
        return list(dict.fromkeys([plain, encoded, quote_plus(encoded), quote(encoded, safe="")]))

    def __repr__(self) -> str:
        form = self.form.value if self.form else None
        return f"{type(self).__name__}(kind={self.kind!r}, form={form!r})"


class StaticTokenProvider(AuthProvider):
    """A fixed token or API key, sent raw in ``Authorization``."""

    kind = "token"
    refreshable = False

    def __init__(self, token: SecretStr, *, scheme: str | None = None) -> None:
        if not token.get_secret_value():
            raise AuthenticationError(
                "PMP_AUTH=token needs PMP_TOKEN", error_type=ErrorType.AUTH_FAILED
            )
        self._token = token
        self.scheme = scheme
        redact.register_secret(token.get_secret_value())

    def obtain(self, session: requests.Session, timeouts: Timeouts) -> Grant:
        """The configured token (no request)."""
        return Grant(self._token, None)

    def header(self, token: str) -> dict[str, str]:
        """``Authorization: <token>`` (or ``<scheme> <token>`` when a scheme is set)."""
        return {"Authorization": f"{self.scheme} {token}" if self.scheme else token}

    def store_key(self) -> str:
        """``token``."""
        return "token"

    def secrets(self) -> list[str]:
        """The token."""
        return [self._token.get_secret_value()]


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        found = lookup(value, key)
        value = None if found is None else found[1]
    return value


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _truthy(found: tuple[str, Any] | None) -> bool:
    if found is None:
        return False
    value = found[1]
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


@dataclass(frozen=True)
class Token:
    """The token in use, with when to refresh it."""

    value: SecretStr
    obtained_at: float
    expires_in: float | None
    generation: int

    @property
    def refresh_due_at(self) -> float:
        """Wall time of the proactive refresh; never (infinity) when the lifetime is unknown:
        such a token is replaced when the server answers 401 (design.md §4), not on a timer
        that would log in with the password again and again."""
        if self.expires_in is None or self.expires_in <= 0:
            return math.inf
        return self.obtained_at + REFRESH_AT_FRACTION * self.expires_in

    @property
    def expires_at(self) -> float | None:
        """Wall time of expiry, when known."""
        if self.expires_in is None or self.expires_in <= 0:
            return None
        return self.obtained_at + self.expires_in

    def __repr__(self) -> str:
        return f"Token(generation={self.generation}, expires_in={self.expires_in})"


class TokenManager:
    """Keeps a valid token for concurrent requests (see the module docstring)."""

    def __init__(
        self,
        provider: AuthProvider,
        session: requests.Session,
        *,
        store: TokenStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
        timeouts: Timeouts | None = None,
        refresh_retries: int = REFRESH_RETRIES,
        backoff: RetryPolicy | None = None,
        max_consecutive_401: int = 3,
        on_event: EventCallback | None = None,
    ) -> None:
        self.provider = provider
        self.session = session
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self.clock = clock
        self.timeouts = timeouts or Timeouts()
        self.refresh_retries = refresh_retries
        self.backoff = backoff or RetryPolicy(clock=clock)
        self.max_consecutive_401 = max_consecutive_401
        self.on_event = on_event
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._token: Token | None = None
        self._generation = 0
        self._consecutive_401 = 0
        for secret in provider.secrets():
            redact.register_secret(secret)

    # --- the token -----------------------------------------------------------------------
    def header(self) -> tuple[dict[str, str], int]:
        """Headers with a valid token and that token's generation (refreshing first when
        it is missing or due)."""
        token = self._token
        if token is None or self._due(token):
            with self._lock:
                token = self._token
                if token is None:
                    token = self._load_stored() or self._obtain_or_fail(RefreshReason.INITIAL)
                elif self._due(token):
                    token = self._proactive(token)
        return self.provider.header(token.value.get_secret_value()), token.generation

    def _due(self, token: Token) -> bool:
        return self.provider.refreshable and self.clock.time() >= token.refresh_due_at

    def _proactive(self, token: Token) -> Token:
        try:
            return self._obtain(RefreshReason.PROACTIVE)
        except AuthenticationError:
            raise
        except TransientAuthError:
            expires_at = token.expires_at
            if expires_at is not None and self.clock.time() < expires_at:
                log.warning("proactive token refresh failed; the current token is still valid")
                return token
            raise AuthenticationError(
                "could not refresh the access token (the authentication server kept failing)",
                error_type=ErrorType.AUTH_FAILED,
            ) from None

    def refresh(self, reason: RefreshReason, seen_generation: int | None = None) -> int:
        """Obtain a new token unless another thread already replaced ``seen_generation``.

        Returns the generation now current.
        """
        with self._lock:
            current = self._token
            if (
                current is not None
                and seen_generation is not None
                and current.generation != seen_generation
            ):
                return current.generation
            if current is not None and not self.provider.refreshable:
                return current.generation
            return self._obtain_or_fail(reason).generation

    def _obtain_or_fail(self, reason: RefreshReason) -> Token:
        try:
            return self._obtain(reason)
        except TransientAuthError as exc:
            raise AuthenticationError(
                "could not obtain an access token (the authentication server kept "
                f"failing: {exc.error_type.value})",
                error_type=ErrorType.AUTH_FAILED,
                http_status=exc.http_status,
            ) from None

    def invalidate(self) -> None:
        """Forget the current token (the next request obtains a new one)."""
        with self._lock:
            self._token = None
            self.store.delete(self.provider.store_key())

    def _load_stored(self) -> Token | None:
        stored = self.store.load(self.provider.store_key())
        if stored is None:
            return None
        self.provider.adopt(stored)
        redact.register_secret(stored.access_token.get_secret_value())
        self._generation += 1
        token = Token(stored.access_token, stored.obtained_at, stored.expires_in, self._generation)
        if self._due(token):
            return None
        self._token = token
        return token

    def _obtain(self, reason: RefreshReason) -> Token:
        """Obtain with up to ``refresh_retries`` retries; caller holds the lock."""
        attempts = 1 + self.refresh_retries
        for attempt in range(1, attempts + 1):
            try:
                grant = self.provider.obtain(self.session, self.timeouts)
            except TransientAuthError as exc:
                last = attempt == attempts
                wait = 0.0 if last else self.backoff.backoff(attempt)
                self._emit(
                    TokenRefreshEvent(
                        provider=self.provider.kind,
                        reason=reason,
                        attempt=attempt,
                        ok=False,
                        error_type=exc.error_type,
                        http_status=exc.http_status,
                        wait_seconds=wait,
                        detail=str(exc),
                    )
                )
                if last:
                    raise
                self.clock.sleep(wait)
                continue
            except AuthenticationError as exc:
                self._emit(
                    TokenRefreshEvent(
                        provider=self.provider.kind,
                        reason=reason,
                        attempt=attempt,
                        ok=False,
                        error_type=exc.error_type,
                        http_status=exc.http_status,
                        detail=redact.redact(str(exc)),
                    )
                )
                raise
            self._generation += 1
            token = Token(grant.access_token, self.clock.time(), grant.expires_in, self._generation)
            self._token = token
            self.store.save(
                self.provider.store_key(),
                StoredToken(
                    grant.access_token, token.obtained_at, grant.expires_in, grant.refresh_token
                ),
            )
            self._emit(
                TokenRefreshEvent(
                    provider=self.provider.kind,
                    reason=reason,
                    attempt=attempt,
                    ok=True,
                    expires_in=grant.expires_in,
                )
            )
            return token
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the 401 rule --------------------------------------------------------------------
    @property
    def consecutive_401(self) -> int:
        """401 answers in a row, across all requests of this client."""
        with self._count_lock:
            return self._consecutive_401

    def record_status(self, http_status: int | None) -> int:
        """Count a 401 or reset the count on any other answer; returns the count."""
        with self._count_lock:
            if http_status == 401:
                self._consecutive_401 += 1
            elif http_status is not None:
                self._consecutive_401 = 0
            return self._consecutive_401

    def _emit(self, event: TokenRefreshEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken callback must not break authentication
            log.exception("on_event callback failed")

    def __repr__(self) -> str:
        return f"TokenManager(provider={self.provider!r}, token={self._token!r})"
