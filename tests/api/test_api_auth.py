"""Auth providers, the token manager and the token stores."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from pydantic import SecretStr

from pmp_intel.api.auth import (
    AuthProvider,
    Grant,
    OnPremLoginProvider,
    StaticTokenProvider,
    TokenManager,
    TransientAuthError,
    ZohoOAuthProvider,
)
from pmp_intel.api.clock import FakeClock
from pmp_intel.api.errors import AuthenticationError, ErrorType, TwoFactorRequiredError
from pmp_intel.api.events import EventCollector, RefreshReason, TokenRefreshEvent
from pmp_intel.api.retry import RetryPolicy
from pmp_intel.api.session import Timeouts, build_session
from pmp_intel.api.tokens import KeyringTokenStore, MemoryTokenStore, StoredToken

ACCOUNTS = "https://accounts.zoho.com.au"
TOKEN_URL = ACCOUNTS + "/oauth/v2/token"
PMP = "https://pmp.corp.example:8383"
LOGIN_URL = PMP + "/api/1.3/desktop/authentication"
CLIENT_SECRET = "client-secret-Q1w2E3r4"
REFRESH = "1000.refresh-token-Z9x8C7v6"
PASSWORD = "Pa55word-with-ümlaut"


def oauth() -> ZohoOAuthProvider:
    return ZohoOAuthProvider(ACCOUNTS, "1000.CLIENTID", SecretStr(CLIENT_SECRET),
                             SecretStr(REFRESH))


def manager(provider: AuthProvider, clock: FakeClock | None = None,
            store: Any = None) -> tuple[TokenManager, EventCollector, FakeClock]:
    clock = clock or FakeClock()
    events = EventCollector()
    tm = TokenManager(provider, build_session(), clock=clock, store=store,
                      backoff=RetryPolicy(clock=clock, rng=lambda: 1.0), on_event=events)
    return tm, events, clock


def token_answer(access: str, expires_in: int | None = 3600, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access, "api_domain": "https://www.zohoapis.com",
                            "token_type": "Bearer", **extra}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return body


# --- Zoho OAuth -------------------------------------------------------------------------
@responses.activate
def test_oauth_refresh_grant_and_header() -> None:
    responses.post(TOKEN_URL, json=token_answer("1000.access-one"))
    tm, events, _ = manager(oauth())
    headers, generation = tm.header()
    assert headers == {"Authorization": "Zoho-oauthtoken 1000.access-one"}
    assert generation == 1
    sent = parse_qs(responses.calls[0].request.body)
    assert sent == {"grant_type": ["refresh_token"], "client_id": ["1000.CLIENTID"],
                    "client_secret": [CLIENT_SECRET], "refresh_token": [REFRESH]}
    assert "?" not in responses.calls[0].request.url  # secrets stay out of the URL
    refresh = events.of(TokenRefreshEvent)
    assert [(e.reason, e.ok) for e in refresh] == [(RefreshReason.INITIAL, True)]


@responses.activate
def test_oauth_keeps_refresh_token_when_answer_has_none_and_adopts_a_rotated_one() -> None:
    responses.post(TOKEN_URL, json=token_answer("1000.a1"))
    responses.post(TOKEN_URL, json=token_answer("1000.a2", refresh_token="1000.rotated-rt"))
    responses.post(TOKEN_URL, json=token_answer("1000.a3"))
    provider = oauth()
    store = MemoryTokenStore()
    tm, _, _ = manager(provider, store=store)
    tm.header()
    assert provider.refresh_token.get_secret_value() == REFRESH
    tm.refresh(RefreshReason.UNAUTHORIZED)
    assert provider.refresh_token.get_secret_value() == "1000.rotated-rt"
    tm.refresh(RefreshReason.UNAUTHORIZED)
    assert parse_qs(responses.calls[2].request.body)["refresh_token"] == ["1000.rotated-rt"]
    stored = store.load(provider.store_key())
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "1000.rotated-rt"
    assert stored.access_token.get_secret_value() == "1000.a3"


@responses.activate
@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"error": "invalid_client"}), (400, {"error": "invalid_code"}), (401, {})],
)
def test_oauth_refusal_is_fatal_and_names_the_settings(status: int, body: dict[str, Any]) -> None:
    responses.post(TOKEN_URL, json=body, status=status)
    tm, events, clock = manager(oauth())
    with pytest.raises(AuthenticationError) as info:
        tm.header()
    message = str(info.value)
    assert "PMP_CLIENT_SECRET" in message
    assert CLIENT_SECRET not in message
    assert REFRESH not in message
    assert len(responses.calls) == 1
    assert clock.sleeps == []
    assert events.of(TokenRefreshEvent)[0].ok is False


@responses.activate
def test_oauth_transient_failures_are_retried_three_times() -> None:
    responses.post(TOKEN_URL, status=503)
    responses.post(TOKEN_URL, body="<html>wait</html>", status=200)
    responses.post(TOKEN_URL, body=requests.ConnectionError("reset"))
    responses.post(TOKEN_URL, json=token_answer("1000.finally"))
    tm, events, clock = manager(oauth())
    assert tm.header()[0]["Authorization"].endswith("1000.finally")
    assert clock.sleeps == [1.0, 2.0, 4.0]
    kinds = [e.error_type for e in events.of(TokenRefreshEvent)]
    assert kinds == [ErrorType.SERVER_ERROR, ErrorType.HTML_THROTTLE,
                     ErrorType.CONNECTION_ERROR, ErrorType.OK]


@responses.activate
def test_oauth_refresh_gives_up_after_three_retries() -> None:
    responses.post(TOKEN_URL, status=500)
    tm, _, _ = manager(oauth())
    with pytest.raises(AuthenticationError, match="kept failing"):
        tm.header()
    assert len(responses.calls) == 4


@responses.activate
def test_proactive_refresh_at_80_percent_of_lifetime() -> None:
    responses.post(TOKEN_URL, json=token_answer("1000.first", expires_in=100))
    responses.post(TOKEN_URL, json=token_answer("1000.second", expires_in=100))
    tm, events, clock = manager(oauth())
    tm.header()
    clock.advance(79)
    assert tm.header()[0]["Authorization"].endswith("1000.first")
    clock.advance(2)
    assert tm.header()[0]["Authorization"].endswith("1000.second")
    assert [e.reason for e in events.of(TokenRefreshEvent)] == [
        RefreshReason.INITIAL, RefreshReason.PROACTIVE]


@responses.activate
def test_failed_proactive_refresh_keeps_a_still_valid_token() -> None:
    responses.post(TOKEN_URL, json=token_answer("1000.first", expires_in=100))
    responses.post(TOKEN_URL, status=502)
    tm, _, clock = manager(oauth())
    tm.header()
    clock.advance(85)
    headers, _ = tm.header()
    assert headers["Authorization"].endswith("1000.first")
    assert len(responses.calls) == 5  # 1 grant + 4 failed refresh attempts


def test_accounts_credentials_are_required() -> None:
    with pytest.raises(AuthenticationError, match="PMP_REFRESH_TOKEN"):
        ZohoOAuthProvider(ACCOUNTS, "id", SecretStr("s"), SecretStr(""))
    with pytest.raises(AuthenticationError, match="PMP_CLIENT_ID"):
        ZohoOAuthProvider(ACCOUNTS, "", SecretStr("s"), SecretStr("r"))


# --- on-premises login --------------------------------------------------------------------
def login_answer(
    token: str | None = "47A1157A-7AAC-4B0E", two_factor: Any = None
) -> dict[str, Any]:
    auth: dict[str, Any] = {}
    if token is not None:
        auth["auth_data"] = {"auth_token": token}
    if two_factor is not None:
        auth["two_factor_data"] = two_factor
    return {"message_type": "authentication", "message_response": {"authentication": auth},
            "message_version": "1.3", "status": "success"}


@responses.activate
def test_onprem_local_login_posts_base64_password_and_uses_a_bare_header() -> None:
    responses.post(LOGIN_URL, json=login_answer())
    provider = OnPremLoginProvider(PMP, "admin", SecretStr(PASSWORD))
    tm, events, clock = manager(provider)
    headers, _ = tm.header()
    assert headers == {"Authorization": "47A1157A-7AAC-4B0E"}
    body = json.loads(responses.calls[0].request.body)
    assert body == {"username": "admin",
                    "password": base64.b64encode(PASSWORD.encode()).decode(),
                    "auth_type": "local_authentication"}
    # Unknown lifetime: no login on a timer (hours later the token is still in use); the
    # server's 401 is what replaces it.
    responses.post(LOGIN_URL, json=login_answer("SECOND-TOKEN"))
    clock.advance(2 * 3600)
    assert tm.header()[0] == {"Authorization": "47A1157A-7AAC-4B0E"}
    assert len(responses.calls) == 1
    tm.refresh(RefreshReason.UNAUTHORIZED, 1)
    assert tm.header()[0] == {"Authorization": "SECOND-TOKEN"}
    assert [e.reason for e in events.of(TokenRefreshEvent)] == [
        RefreshReason.INITIAL, RefreshReason.UNAUTHORIZED]
    # the form that worked is used again, alone
    assert json.loads(responses.calls[1].request.body)["username"] == "admin"


@responses.activate
def test_onprem_ad_login_sends_the_domain_and_falls_back_to_query_form() -> None:
    responses.post(LOGIN_URL, status=405)
    responses.post(LOGIN_URL, json=login_answer("AD-TOKEN"))
    provider = OnPremLoginProvider(PMP, "jdoe", SecretStr(PASSWORD), "ad_authentication", "CORP")
    grant = provider.obtain(build_session(), Timeouts())
    assert grant.access_token.get_secret_value() == "AD-TOKEN"
    assert json.loads(responses.calls[0].request.body)["domainName"] == "CORP"
    query = parse_qs(responses.calls[1].request.url.split("?", 1)[1])
    assert query["auth_type"] == ["ad_authentication"]
    assert query["domainName"] == ["CORP"]


def test_onprem_ad_login_needs_a_domain() -> None:
    with pytest.raises(AuthenticationError, match="PMP_DOMAIN"):
        OnPremLoginProvider(PMP, "jdoe", SecretStr("x"), "ad_authentication")


@responses.activate
def test_onprem_two_factor_answer_names_what_is_needed() -> None:
    responses.post(LOGIN_URL, json=login_answer(None, {
        "is_TwoFactor_Enabled": True, "unique_userID": "42",
        "message": "Google authentication already created for this user. Validate OTP"}))
    tm, _, _ = manager(OnPremLoginProvider(PMP, "admin", SecretStr(PASSWORD)))
    with pytest.raises(TwoFactorRequiredError) as info:
        tm.header()
    message = str(info.value)
    assert "two-factor" in message
    assert "one-time password" in message
    assert "PMP_AUTH=token" in message
    assert PASSWORD not in message


@responses.activate
def test_onprem_refused_login() -> None:
    responses.post(LOGIN_URL, json={"status": "error", "error_code": "1001",
                                    "error_description": "Invalid credentials"})
    tm, _, _ = manager(OnPremLoginProvider(PMP, "admin", SecretStr(PASSWORD)))
    with pytest.raises(AuthenticationError, match="error_code=1001") as info:
        tm.header()
    assert not isinstance(info.value, TwoFactorRequiredError)
    responses.replace(responses.POST, LOGIN_URL, status=401)
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        tm.refresh(RefreshReason.UNAUTHORIZED)


# --- static token -----------------------------------------------------------------------
@responses.activate
def test_static_token_needs_no_request_and_never_refreshes() -> None:
    tm, _, clock = manager(StaticTokenProvider(SecretStr("API-KEY-123456")))
    assert tm.header() == ({"Authorization": "API-KEY-123456"}, 1)
    clock.advance(10_000)
    assert tm.refresh(RefreshReason.UNAUTHORIZED, 1) == 1
    assert tm.header()[1] == 1
    assert len(responses.calls) == 0


# --- single flight ------------------------------------------------------------------------
class SlowProvider(AuthProvider):
    """Counts grants; the first one blocks until released."""

    kind = "oauth"

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.entered = threading.Event()

    def obtain(self, session: requests.Session, timeouts: Timeouts) -> Grant:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(5)
        return Grant(SecretStr(f"token-{self.calls}"), 3600)

    def header(self, token: str) -> dict[str, str]:
        return {"Authorization": token}

    def store_key(self) -> str:
        return "slow"


def test_concurrent_401s_cause_one_refresh() -> None:
    provider = SlowProvider()
    provider.release.set()
    tm, _, _ = manager(provider)
    _, generation = tm.header()
    provider.release.clear()
    provider.entered.clear()
    results: list[int] = []
    lock = threading.Lock()

    def on_401() -> None:
        new = tm.refresh(RefreshReason.UNAUTHORIZED, generation)
        with lock:
            results.append(new)

    threads = [threading.Thread(target=on_401) for _ in range(8)]
    for t in threads:
        t.start()
    assert provider.entered.wait(5)
    provider.release.set()
    for t in threads:
        t.join()
    assert provider.calls == 2  # the initial grant plus exactly one refresh
    assert results == [generation + 1] * 8


def test_concurrent_first_requests_cause_one_grant() -> None:
    provider = SlowProvider()
    tm, _, _ = manager(provider)
    seen: list[str] = []

    def request() -> None:
        seen.append(tm.header()[0]["Authorization"])

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    assert provider.entered.wait(5)
    provider.release.set()
    for t in threads:
        t.join()
    assert provider.calls == 1
    assert seen == ["token-1"] * 6


def test_consecutive_401_counter() -> None:
    tm, _, _ = manager(StaticTokenProvider(SecretStr("T-123456")))
    assert [tm.record_status(s) for s in (401, 401, None, 401, 200, 401)] == [1, 2, 2, 3, 0, 1]


# --- token stores -------------------------------------------------------------------------
class FakeKeyring:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, key: str) -> str | None:
        return self.data.get((service, key))

    def set_password(self, service: str, key: str, value: str) -> None:
        self.data[(service, key)] = value

    def delete_password(self, service: str, key: str) -> None:
        del self.data[(service, key)]


@responses.activate
def test_a_stored_valid_token_is_reused_without_a_grant() -> None:
    backend = FakeKeyring()
    store = KeyringTokenStore(backend=backend)
    clock = FakeClock()
    provider = oauth()
    store.save(provider.store_key(), StoredToken(
        SecretStr("1000.stored"), clock.time() - 60, 3600, SecretStr("1000.rt-from-store")))
    tm, events, _ = manager(provider, clock=clock, store=store)
    assert tm.header()[0]["Authorization"] == "Zoho-oauthtoken 1000.stored"
    assert len(responses.calls) == 0
    assert events.of(TokenRefreshEvent) == []
    assert provider.refresh_token.get_secret_value() == "1000.rt-from-store"
    assert "1000.stored" not in repr(store)
    assert "1000.stored" not in repr(tm)
    tm.invalidate()
    assert backend.data == {}
    store.delete("absent")  # no error


def test_keyring_store_roundtrip_and_garbage() -> None:
    backend = FakeKeyring()
    store = KeyringTokenStore(service="svc", backend=backend)
    token = StoredToken(SecretStr("a"), 1.0, None, None)
    store.save("k", token)
    assert store.load("k") == token
    backend.data[("svc", "k")] = "{not json"
    assert store.load("k") is None
    assert store.load("missing") is None


def test_transient_auth_error_carries_no_body() -> None:
    exc = TransientAuthError(ErrorType.SERVER_ERROR, "HTTP 503", 503)
    assert str(exc) == "HTTP 503"
    assert exc.http_status == 503
