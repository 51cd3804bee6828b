"""The on-premises login: its three forms, the fallbacks between them, the stops that protect
the account from lockout, secrets in the query-string forms, and the token of unknown lifetime
(pmp-api.md §2a, §3c, §10)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
import requests
import responses
from log_capture import capturing_every_logger
from pydantic import SecretStr
from responses import matchers

from pmp_intel.api.auth import (
    LOGIN_FORMS,
    LoginForm,
    OnPremLoginProvider,
    TokenManager,
    TransientAuthError,
)
from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock
from pmp_intel.api.errors import AuthenticationError, TwoFactorRequiredError
from pmp_intel.api.events import EventCollector, RefreshReason, TokenRefreshEvent
from pmp_intel.api.ratelimit import TokenBucket
from pmp_intel.api.retry import RetryPolicy
from pmp_intel.api.session import Timeouts, build_session
from pmp_intel.endpoints import registry
from pmp_intel.testing import simulated_pmp

PMP = "https://pmp.corp.example:8383"
LOGIN_URL = PMP + "/api/1.3/desktop/authentication"
# base64 of this password holds "+", "/" and "=", which a query string percent-encodes
PASSWORD = "Pw?>?>~~~ü"
ENCODED = base64.b64encode(PASSWORD.encode()).decode()
TOKEN = "47A1157A-7AAC-4D4D-9A9A-ABCDEF012345"
WRONG = {
    "status": "error",
    "error_code": "10002",
    "error_description": "Invalid username or password",
}


def ok(token: str = TOKEN) -> dict[str, Any]:
    return {
        "message_type": "authentication",
        "message_response": {
            "authentication": {
                "auth_data": {"auth_token": token},
                "two_factor_data": {"is_TwoFactor_Enabled": False},
            }
        },
        "message_version": "1.3",
        "status": "success",
    }


def error(description: str, code: str = "10001") -> dict[str, Any]:
    return {"status": "error", "error_code": code, "error_description": description}


def provider() -> OnPremLoginProvider:
    return OnPremLoginProvider(PMP, "admin", SecretStr(PASSWORD))


def obtain(p: OnPremLoginProvider | None = None) -> str:
    grant = (p or provider()).obtain(build_session(), Timeouts())
    return grant.access_token.get_secret_value()


def form_of(call: Any) -> LoginForm:
    """Which form a recorded request used (and that it carried the credentials right)."""
    request = call.request
    query = parse_qs(urlsplit(request.url).query)
    if request.method == "POST" and request.body:
        assert query == {}
        assert json.loads(request.body) == {
            "username": "admin",
            "password": ENCODED,
            "auth_type": "local_authentication",
        }
        return LoginForm.JSON
    assert request.body is None
    assert query == {
        "username": ["admin"],
        "password": [ENCODED],
        "auth_type": ["local_authentication"],
    }
    return LoginForm.GET if request.method == "GET" else LoginForm.POST_QUERY


def forms() -> list[LoginForm]:
    return [form_of(call) for call in responses.calls]


JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
QUERY = matchers.query_param_matcher(
    {"username": "admin", "password": ENCODED, "auth_type": "local_authentication"}
)


# --- each form, and the fallbacks -------------------------------------------------------
@responses.activate
def test_a_server_answering_only_the_documented_get_is_logged_in_with_get() -> None:
    """PMP's own docs (S1): GET with query parameters; a POST is not served."""
    responses.post(LOGIN_URL, status=405, body="Method Not Allowed")
    responses.get(LOGIN_URL, json=ok(), match=[QUERY])
    p = provider()
    assert obtain(p) == TOKEN
    assert forms() == [LoginForm.JSON, LoginForm.POST_QUERY, LoginForm.GET]
    assert p.form is LoginForm.GET
    # a later login of the same provider goes straight to the form that worked
    responses.replace(responses.GET, LOGIN_URL, json=ok("SECOND"), match=[QUERY])
    assert obtain(p) == "SECOND"
    assert forms()[3:] == [LoginForm.GET]


@responses.activate
def test_a_server_ignoring_the_json_body_is_logged_in_with_query_parameters() -> None:
    """C2's form: the JSON body is ignored and the legacy server answers HTTP 200 with an
    error envelope that looks like a wrong password (pmp-api.md §3c)."""
    responses.post(LOGIN_URL, json=ok(), match=[QUERY])
    responses.post(LOGIN_URL, json=WRONG, match=[JSON_BODY])
    p = provider()
    assert obtain(p) == TOKEN
    assert forms() == [LoginForm.JSON, LoginForm.POST_QUERY]
    assert p.form is LoginForm.POST_QUERY
    assert obtain(p) == TOKEN
    assert forms()[2:] == [LoginForm.POST_QUERY]


@responses.activate
def test_a_json_only_server_is_logged_in_with_one_request() -> None:
    """EC-MSP (S14): POST with a JSON body."""
    responses.post(LOGIN_URL, json=ok(), match=[JSON_BODY])
    assert obtain() == TOKEN
    assert forms() == [LoginForm.JSON]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"ErrorCode": "400", "ErrorMsg": "Bad request"}),
        (404, "<html>Not Found</html>"),
        (405, ""),
        (415, "Unsupported Media Type"),
        (403, "<html>Forbidden</html>"),  # 403 naming no credentials: a form problem
        (200, error("Invalid input", "INVALID_INPUT")),
        (200, error("username is required")),  # the server read no credentials
        (200, {"status": "error"}),  # no words at all
    ],
)
@responses.activate
def test_a_refused_form_moves_on_to_the_next(status: int, body: Any) -> None:
    kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(LOGIN_URL, status=status, **kwargs)
    responses.get(LOGIN_URL, json=ok())
    assert obtain() == TOKEN
    assert forms() == list(LOGIN_FORMS)


@responses.activate
def test_every_form_refused_names_each_form_and_no_secret() -> None:
    responses.post(LOGIN_URL, status=415, match=[JSON_BODY])
    responses.post(LOGIN_URL, json=error("Invalid input", "INVALID_INPUT"), match=[QUERY])
    responses.get(LOGIN_URL, status=404)
    with pytest.raises(AuthenticationError) as info:
        obtain()
    message = str(info.value)
    assert "JSON POST: HTTP 415" in message
    assert "POST with query parameters: error_code=INVALID_INPUT" in message
    assert "GET with query parameters: HTTP 404" in message
    assert "PMP_BASE_URL" in message
    assert info.value.http_status == 404
    for secret in (PASSWORD, ENCODED, quote_plus(ENCODED)):
        assert secret not in message
        assert secret not in repr(info.value)
    assert len(responses.calls) == 3


# --- stops that protect the account -------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"ErrorCode": "401", "ErrorMsg": "Unauthorized"}),
        (401, ""),
        (403, {"ErrorCode": "403", "ErrorMsg": "Invalid username or password"}),
        (403, {"status": "error", "error_code": "1", "error_description": "Account is locked"}),
        (200, error("Your account has been locked. Contact the administrator.")),
        (200, error("Too many failed login attempts")),
        (200, error("User account is disabled")),
        (200, error("Password has expired")),
    ],
)
@responses.activate
def test_a_clear_refusal_of_the_credentials_stops_at_the_first_form(status: int, body: Any) -> None:
    kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(LOGIN_URL, status=status, **kwargs)
    responses.get(LOGIN_URL, json=ok())
    with pytest.raises(AuthenticationError) as info:
        obtain()
    assert "refused the login of user 'admin'" in str(info.value)
    assert "PMP_PASSWORD" in str(info.value)
    assert info.value.http_status == status
    assert forms() == [LoginForm.JSON]


@responses.activate
def test_a_wrong_password_costs_at_most_two_attempts_and_never_three() -> None:
    """A server that reads every form: the JSON answer "invalid username or password" could
    mean an unread body (see above), so the query form is tried once; its answer is final."""
    responses.post(LOGIN_URL, json=WRONG)
    responses.get(LOGIN_URL, json=ok())
    with pytest.raises(AuthenticationError, match="error_code=10002"):
        obtain()
    assert forms() == [LoginForm.JSON, LoginForm.POST_QUERY]


@pytest.mark.parametrize("known", [LoginForm.JSON, LoginForm.POST_QUERY, LoginForm.GET])
@responses.activate
def test_a_wrong_password_on_the_form_that_worked_before_stops_at_once(known: LoginForm) -> None:
    p = provider()
    p.form = known
    responses.post(LOGIN_URL, json=WRONG)
    responses.get(LOGIN_URL, json=WRONG)
    with pytest.raises(AuthenticationError, match="error_code=10002"):
        obtain(p)
    assert forms() == [known]


@responses.activate
def test_a_transient_failure_is_left_to_the_token_managers_retries() -> None:
    responses.post(LOGIN_URL, status=405)
    responses.post(LOGIN_URL, status=503)
    with pytest.raises(TransientAuthError) as info:
        obtain()
    assert info.value.http_status == 503
    responses.reset()
    responses.post(LOGIN_URL, json=error("busy", "INTERNAL_ERROR"))
    with pytest.raises(TransientAuthError, match="INTERNAL_ERROR"):
        obtain()


@responses.activate
def test_two_factor_on_the_get_form_names_what_is_needed() -> None:
    responses.post(LOGIN_URL, status=405)
    answer = ok()
    answer["message_response"]["authentication"] = {
        "two_factor_data": {"is_TwoFactor_Enabled": True, "unique_userID": "7"}
    }
    responses.get(LOGIN_URL, json=answer)
    with pytest.raises(TwoFactorRequiredError, match="one-time password"):
        obtain()
    assert forms()[-1] is LoginForm.GET


# --- secrets in the query-string forms ------------------------------------------------------
def test_the_query_string_password_is_registered_for_redaction() -> None:
    secrets = provider().secrets()
    assert quote_plus(ENCODED) != ENCODED  # the case that matters: "+", "/", "=" are escaped
    assert {PASSWORD, ENCODED, quote_plus(ENCODED)} <= set(secrets)
    assert "form=None" in repr(provider())


@pytest.mark.parametrize(
    ("login_forms", "methods"),
    [
        # login: JSON 405, POST 405, GET; wrong password: the same, refused on GET
        (("get",), ["POST", "POST", "GET"] * 2),
        # login: JSON ignored, POST with query; wrong password: the same, refused on POST
        (("get", "post"), ["POST", "POST"] * 2),
        # login: JSON; wrong password: JSON, then the query form once
        (("json",), ["POST", "POST", "POST"]),
    ],
)
def test_no_secret_in_any_log_line_or_error_of_a_real_login(
    login_forms: tuple[str, ...], methods: list[str]
) -> None:
    """Through a socket, so urllib3 logs its request lines (the query string with the
    base64 password) at DEBUG; a wrong password then fails on the same forms."""
    with (
        simulated_pmp(systems=3, auth="onprem", login_forms=login_forms) as pmp,
        capturing_every_logger() as logs,
    ):
        password = pmp.credentials["password"]
        encoded = base64.b64encode(password.encode()).decode()
        p = OnPremLoginProvider(pmp.base_url, "admin", SecretStr(password))
        tm = TokenManager(p, build_session())
        token = tm.header()[0]["Authorization"]
        texts = [repr(p), repr(tm)]
        wrong = OnPremLoginProvider(pmp.base_url, "admin", SecretStr("Wrong-" + password))
        with pytest.raises(AuthenticationError) as info:
            TokenManager(wrong, build_session()).header()
        texts += [str(info.value), repr(info.value)]
        sent = [r.method for r in pmp.request_log]
    assert info.value.http_status == 200
    assert sent == methods
    request_lines = [line for line in logs.lines if "desktop/authentication" in line]
    # urllib3 logged the query-string forms' request lines, password masked
    assert any("password=<redacted>" in line for line in request_lines)
    wrong_encoded = base64.b64encode(("Wrong-" + password).encode()).decode()
    for text in [*logs.lines, *texts]:
        for secret in (password, encoded, quote_plus(encoded), token, wrong_encoded):
            assert secret not in text, text[:200]
        assert quote_plus(wrong_encoded) not in text


# --- a token of unknown lifetime --------------------------------------------------------------
def test_a_two_hour_run_logs_in_again_only_when_the_server_says_401() -> None:
    """The simulator's on-prem tokens live 30 minutes, a number the client is never told: a
    page every 15 minutes for 2.5 hours (11 pages) costs one login per expiry and no page."""
    sim_now = [0.0]
    clock = FakeClock()
    with simulated_pmp(
        systems=55, auth="onprem", onprem_token_ttl=1800.0, clock=lambda: sim_now[0]
    ) as pmp:
        p = OnPremLoginProvider(pmp.base_url, "admin", SecretStr(pmp.credentials["password"]))
        events = EventCollector()
        policy = RetryPolicy(clock=clock, rng=lambda: 0.5)
        session = build_session()
        tokens = TokenManager(p, session, clock=clock, backoff=policy, on_event=events)
        client = PMPClient(
            pmp.base_url,
            tokens,
            session=session,
            rate_limiter=TokenBucket(1000.0, burst=1000.0, clock=clock),
            policy=policy,
            page_limit=5,
            clock=clock,
            on_event=events,
            read_ahead=False,
        )
        spec = registry.get("allsystems")
        records = 0
        for page in range(1, 12):
            records += len(client.get_page(spec, page).records)
            clock.advance(900)
            sim_now[0] += 900
        logins = [r for r in pmp.request_log if r.endpoint == "authentication"]
        unauthorized = [r for r in pmp.request_log if r.status == 401]
    assert records == 55
    # pages at 0, 15, 30 … 150 min; tokens expire every 30 min: logins at 0, 30, 60, 90, 120, 150
    assert len(logins) == 6
    assert len(unauthorized) == 5
    reasons = [e.reason for e in events.of(TokenRefreshEvent)]
    assert reasons == [RefreshReason.INITIAL] + [RefreshReason.UNAUTHORIZED] * 5
    assert p.form is LoginForm.JSON  # the simulator reads every form: the first one works


@responses.activate
def test_a_stored_token_of_unknown_lifetime_is_reused_until_a_401() -> None:
    from pmp_intel.api.tokens import MemoryTokenStore, StoredToken

    clock = FakeClock()
    store = MemoryTokenStore()
    p = provider()
    store.save(p.store_key(), StoredToken(SecretStr("OLD-TOKEN"), clock.time() - 86_400))
    tm = TokenManager(p, build_session(), clock=clock, store=store)
    assert tm.header()[0] == {"Authorization": "OLD-TOKEN"}
    assert len(responses.calls) == 0
    responses.post(LOGIN_URL, json=ok())
    generation = tm.header()[1]
    tm.refresh(RefreshReason.UNAUTHORIZED, generation)
    assert tm.header()[0] == {"Authorization": TOKEN}
    assert len(responses.calls) == 1


def test_session_errors_never_carry_the_url() -> None:
    """requests' exception texts hold the URL with its query string (the password)."""

    class Exploding(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *a: Any, **k: Any) -> Any:
            raise requests.exceptions.InvalidHeader(f"bad header for {url}?password={ENCODED}")

    with pytest.raises(TransientAuthError) as info:
        provider().obtain(Exploding(), Timeouts())
    assert str(info.value) == "InvalidHeader"
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
