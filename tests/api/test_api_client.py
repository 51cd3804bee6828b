"""PMPClient against `responses`: every row of the resilience table (design.md §4)."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from api_helpers import BASE, STATIC_TOKEN, Spec, envelope, make_client
from pydantic import SecretStr

from pmp_intel.api.auth import ZohoOAuthProvider
from pmp_intel.api.errors import (
    Action,
    AuthenticationError,
    EndpointNotSupportedError,
    ErrorType,
    PMPAPIError,
    RequestFailedError,
)
from pmp_intel.api.events import (
    AttemptEvent,
    EndpointNotSupportedEvent,
    InvalidRecordEvent,
    RefreshReason,
    TokenRefreshEvent,
)
from pmp_intel.api.paginate import Page, PageFailure, PagingStyle
from pmp_intel.api.retry import _datetime_header

URL = BASE + "/api/1.4/patch/things"
ACCOUNTS = "https://accounts.example.test"
HTML = "<!DOCTYPE html><html><head><title>Please wait</title></head><body>busy</body></html>"


def ok(records: int = 2, total: int | None = None) -> str:
    return envelope(
        "things", [{"id": i} for i in range(records)], total=records if total is None else total
    )


def attempts(events: object) -> list[AttemptEvent]:
    return events.of(AttemptEvent)  # type: ignore[attr-defined, no-any-return]


@responses.activate
def test_success_parses_and_reports_one_attempt() -> None:
    responses.get(URL, body=ok(3), content_type="text/plain;charset=UTF-8")
    client, events, clock = make_client()
    page = client.get_page(Spec(), 1)
    assert page.records == [{"id": 0}, {"id": 1}, {"id": 2}]
    assert page.total == 3
    request = responses.calls[0].request
    assert request.headers["Authorization"] == STATIC_TOKEN
    assert "page=1" in request.url
    assert "pagelimit=1000" in request.url
    [event] = attempts(events)
    assert (event.error_type, event.action, event.http_status) == (ErrorType.OK, Action.ACCEPT, 200)
    assert clock.sleeps == []


@responses.activate
def test_401_refreshes_once_and_retries_at_once_with_the_new_token() -> None:
    responses.post(
        ACCOUNTS + "/oauth/v2/token", json={"access_token": "1000.old", "expires_in": 3600}
    )
    responses.post(
        ACCOUNTS + "/oauth/v2/token", json={"access_token": "1000.new", "expires_in": 3600}
    )
    responses.get(URL, status=401, json={"ErrorCode": "401", "ErrorMsg": "expired"})
    responses.get(URL, body=ok())
    provider = ZohoOAuthProvider(
        ACCOUNTS, "cid", SecretStr("csecret-123"), SecretStr("1000.rt-123")
    )
    client, events, clock = make_client(provider=provider)
    page = client.get_page(Spec())
    assert len(page.records) == 2
    api_calls = [c.request for c in responses.calls if c.request.method == "GET"]
    assert [r.headers["Authorization"] for r in api_calls] == [
        "Zoho-oauthtoken 1000.old",
        "Zoho-oauthtoken 1000.new",
    ]
    assert clock.sleeps == []
    assert [e.action for e in attempts(events)] == [Action.REFRESH_AND_RETRY, Action.ACCEPT]
    reasons = [e.reason for e in events.of(TokenRefreshEvent)]
    assert reasons == [RefreshReason.INITIAL, RefreshReason.UNAUTHORIZED]


@responses.activate
def test_three_consecutive_401s_are_fatal() -> None:
    responses.get(URL, status=401)
    client, events, _ = make_client()
    with pytest.raises(AuthenticationError, match="3 consecutive HTTP 401") as info:
        client.get_page(Spec())
    assert info.value.exit_code == 1
    assert info.value.http_status == 401
    assert len(responses.calls) == 3
    assert attempts(events)[-1].action is Action.FATAL


@responses.activate
def test_401_count_spans_requests_and_resets_on_success() -> None:
    responses.get(URL, status=401)
    responses.get(URL, body=ok())
    responses.get(URL, status=401)
    responses.get(URL, body=ok())
    client, _, _ = make_client()
    client.get_page(Spec())
    client.get_page(Spec())
    assert client.tokens.consecutive_401 == 0


@responses.activate
@pytest.mark.parametrize("form", ["seconds", "date"])
def test_429_waits_retry_after_in_both_forms(form: str) -> None:
    client, events, clock = make_client()
    value = "7" if form == "seconds" else _datetime_header(7, clock.time())
    responses.get(URL, status=429, headers={"Retry-After": value})
    responses.get(URL, body=ok())
    client.get_page(Spec())
    assert clock.sleeps == [pytest.approx(7, abs=1)]
    first = attempts(events)[0]
    assert (first.error_type, first.action) == (ErrorType.RATE_LIMITED, Action.WAIT_AND_RETRY)


@responses.activate
@pytest.mark.parametrize("header", [None, "0", "-5"])
def test_429_without_a_usable_retry_after_backs_off(header: str | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    responses.get(URL, status=429, headers=headers)
    responses.get(URL, status=429, headers=headers)
    responses.get(URL, body=ok())
    client, _, clock = make_client()
    client.get_page(Spec())
    assert clock.sleeps == [0.5, 1.0]  # rng 0.5 × (1 s, 2 s): never a zero-wait loop


@responses.activate
def test_retry_after_is_capped() -> None:
    responses.get(URL, status=429, headers={"Retry-After": "86400"})
    responses.get(URL, body=ok())
    client, _, clock = make_client()
    client.get_page(Spec())
    assert clock.sleeps == [client.policy.retry_after_cap]


@responses.activate
def test_html_200_is_a_throttle() -> None:
    responses.get(URL, body=HTML, status=200, content_type="text/html")
    responses.get(URL, body=ok())
    client, events, clock = make_client()
    client.get_page(Spec())
    first = attempts(events)[0]
    assert first.error_type is ErrorType.HTML_THROTTLE
    assert first.http_status == 200
    assert first.action is Action.WAIT_AND_RETRY
    assert clock.sleeps == [0.5]
    assert "Please wait" in first.response_sample


@responses.activate
@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ({"status": 503}, ErrorType.SERVER_ERROR),
        ({"status": 500, "body": "oops"}, ErrorType.SERVER_ERROR),
        ({"body": requests.ReadTimeout("slow")}, ErrorType.TIMEOUT),
        ({"body": requests.ConnectTimeout("slow")}, ErrorType.TIMEOUT),
        ({"body": requests.ConnectionError("reset by peer")}, ErrorType.CONNECTION_ERROR),
        ({"body": requests.exceptions.ChunkedEncodingError("cut")}, ErrorType.CONNECTION_ERROR),
    ],
)
def test_transient_failures_back_off_exponentially(
    answer: dict[str, object], kind: ErrorType
) -> None:
    responses.get(URL, **answer)  # type: ignore[arg-type]
    responses.get(URL, **answer)  # type: ignore[arg-type]
    responses.get(URL, body=ok())
    client, events, clock = make_client()
    client.get_page(Spec())
    assert clock.sleeps == [0.5, 1.0]
    assert [e.error_type for e in attempts(events)] == [kind, kind, ErrorType.OK]


@responses.activate
def test_budget_exhausted_becomes_a_gap_with_a_redacted_sample() -> None:
    responses.get(URL, status=502, body="upstream 10.0.0.7 down, mail ops@corp.example")
    client, events, _ = make_client()
    with pytest.raises(RequestFailedError) as info:
        client.get_page(Spec(), 4)
    error = info.value
    assert (error.error_type, error.http_status, error.attempts, error.page) == (
        ErrorType.SERVER_ERROR,
        502,
        3,
        4,
    )
    assert error.exit_code == 2
    assert "10.0.0.7" not in error.sample
    assert "ops@corp" not in error.sample
    assert "<ipv4>" in error.sample
    assert attempts(events)[-1].action is Action.GAP


@responses.activate
def test_200_with_error_envelope_is_not_retried() -> None:
    responses.get(
        URL, json={"status": "error", "error_code": "10002", "error_description": "Invalid filter"}
    )
    client, _events, clock = make_client()
    outcome = client.fetch(Spec(), {"page": 1})
    assert isinstance(outcome, PageFailure)
    assert (outcome.error_type, outcome.action, outcome.attempts) == (
        ErrorType.API_ERROR,
        Action.GAP,
        1,
    )
    assert clock.sleeps == []
    assert len(responses.calls) == 1


@responses.activate
def test_200_with_transient_error_code_is_retried() -> None:
    responses.get(URL, json={"status": "error", "error_code": "INTERNAL_ERROR"})
    responses.get(URL, body=ok())
    client, events, _ = make_client()
    assert isinstance(client.get_page(Spec()), Page)
    assert attempts(events)[0].error_type is ErrorType.API_ERROR_TRANSIENT


@responses.activate
def test_truncated_json_is_retried_once_then_a_gap() -> None:
    responses.get(URL, body='{"message_type":"things","message_response":{"tot')
    client, events, _ = make_client()
    outcome = client.fetch(Spec(), {"page": 1})
    assert isinstance(outcome, PageFailure)
    assert outcome.error_type is ErrorType.INVALID_JSON
    assert outcome.attempts == 2
    assert [e.action for e in attempts(events)] == [Action.RETRY_ONCE, Action.GAP]


@responses.activate
def test_truncated_json_recovers_on_the_second_attempt() -> None:
    responses.get(URL, body='{"message_type":"thi')
    responses.get(URL, body=ok())
    client, _, _ = make_client()
    assert len(client.get_page(Spec()).records) == 2


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (404, "Not Found", "not supported by this server"),
        (403, '{"status":"error","error_code":"403"}', "outside the token's scopes (HTTP 403)"),
    ],
)
@responses.activate
def test_optional_endpoint_404_or_403_is_not_supported(status: int, body: str, detail: str) -> None:
    responses.get(URL, status=status, body=body)
    client, events, _ = make_client()
    outcomes = list(client.iter_pages(Spec(optional=True)))
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], PageFailure)
    assert outcomes[0].not_supported
    assert outcomes[0].detail == detail
    assert [
        (e.endpoint, e.http_status, e.detail) for e in events.of(EndpointNotSupportedEvent)
    ] == [("things", status, detail)]
    with pytest.raises(EndpointNotSupportedError, match=detail.split(" (")[0]):
        client.get_page(Spec(optional=True))
    assert len(responses.calls) == 2  # never retried


@responses.activate
def test_non_optional_404_and_403_are_gaps_without_retry() -> None:
    responses.get(URL, status=404)
    responses.get(BASE + "/api/1.4/som/remoteoffice", status=403)
    client, _, _ = make_client()
    with pytest.raises(RequestFailedError):
        client.get_page(Spec())
    failure = client.fetch(Spec(path="/api/1.4/som/remoteoffice"), {})
    assert isinstance(failure, PageFailure)
    assert failure.error_type is ErrorType.FORBIDDEN
    assert len(responses.calls) == 2


@responses.activate
def test_tls_failure_is_fatal() -> None:
    responses.get(URL, body=requests.exceptions.SSLError("certificate verify failed"))
    client, _, _ = make_client()
    with pytest.raises(PMPAPIError, match="PMP_CA_BUNDLE") as info:
        client.get_page(Spec())
    assert info.value.error_type is ErrorType.TLS_ERROR
    assert len(responses.calls) == 1


@responses.activate
def test_each_attempt_reapplies_the_current_token() -> None:
    # A 503 storm lasts past 80 % of the token's life: the retry must carry the new token.
    token_url = ACCOUNTS + "/oauth/v2/token"
    responses.post(token_url, json={"access_token": "1000.t1", "expires_in": 0.5})
    responses.post(token_url, json={"access_token": "1000.t2", "expires_in": 3600})
    responses.get(URL, status=503)
    responses.get(URL, body=ok())
    provider = ZohoOAuthProvider(
        ACCOUNTS, "cid", SecretStr("csecret-123"), SecretStr("1000.rt-123")
    )
    client, _, _clock = make_client(provider=provider)
    client.get_page(Spec())
    gets = [
        c.request.headers["Authorization"] for c in responses.calls if c.request.method == "GET"
    ]
    assert gets == ["Zoho-oauthtoken 1000.t1", "Zoho-oauthtoken 1000.t2"]


@responses.activate
def test_invalid_records_are_reported_with_their_page() -> None:
    responses.get(URL, body=envelope("things", [{"id": 1}, {"bad": True}, "junk"], total=3))
    client, events, _ = make_client()
    page = client.get_page(Spec(), 1)
    assert page.records == [{"id": 1}]
    assert [b.index for b in page.invalid] == [1, 2]
    reported = events.of(InvalidRecordEvent)
    assert [(e.page, e.index) for e in reported] == [(1, 1), (1, 2)]


@responses.activate
def test_single_object_endpoint() -> None:
    responses.get(
        BASE + "/api/1.4/patch/summary",
        json={
            "message_type": "summary",
            "message_response": {"summary": {"a": 1}},
            "status": "success",
        },
    )
    client, _, _ = make_client()
    spec = Spec("summary", "/api/1.4/patch/summary", "summary", PagingStyle.SINGLE)
    [page] = list(client.iter_pages(spec))
    assert isinstance(page, Page)
    assert page.records == [{"a": 1}]
    assert "page=" not in responses.calls[0].request.url


@responses.activate
def test_rate_limiter_is_applied_to_every_attempt() -> None:
    responses.get(URL, status=503)
    responses.get(URL, body=ok())
    client, _, clock = make_client(rate=2.0)
    client.tokens.header()
    client.rate_limiter = type(client.rate_limiter)(2.0, clock=clock)
    client.get_page(Spec())
    client.get_page(Spec())
    # 0.5 (backoff) then limiter waits: the bucket allows 2/s.
    assert sum(clock.sleeps) >= 1.0


def test_callback_errors_do_not_break_requests() -> None:
    def broken(event: object) -> None:
        raise RuntimeError("callback bug")

    client, _, _ = make_client()
    client.on_event = broken
    with responses.RequestsMock() as mock:
        mock.get(URL, body=ok())
        assert isinstance(client.get_page(Spec()), Page)


def test_bad_base_url() -> None:
    client, _, _ = make_client()
    with pytest.raises(Exception, match="http"):
        type(client)("ftp://x", client.tokens)


def test_body_json_helper_roundtrip() -> None:
    assert json.loads(ok(1))["message_response"]["total"] == 1
