"""Proof: no secret appears in any log line, exception text, event or repr produced while
exercising every auth flow and failure path (unit level; the integration tests repeat the
scan against the simulator)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from urllib.parse import quote_plus

import pytest
import requests
import responses
from api_helpers import BASE, Spec, envelope, make_client
from log_capture import capturing_every_logger
from pydantic import SecretStr

from pmp_intel.api.auth import OnPremLoginProvider, StaticTokenProvider, ZohoOAuthProvider
from pmp_intel.api.client import PMPClient
from pmp_intel.api.errors import PMPIntelError
from pmp_intel.api.events import RefreshReason
from pmp_intel.api.redact import sample
from pmp_intel.settings import Settings

CLIENT_SECRET = "cs-7c1e3b5a9d2f4e6b"
REFRESH_TOKEN = "1000.rt.4f5e6d7c8b9a0f1e"
ACCESS_TOKENS = ["1000.at.aaaa1111bbbb", "1000.at.cccc2222dddd", "1000.at.eeee3333ffff"]
PASSWORD = "Pw-9q8w7e6r!"
STATIC = "STATIC-API-KEY-5a5a5a5a"
ONPREM_TOKEN = "ONPREM-TOKEN-1234ABCD"
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, *ACCESS_TOKENS, PASSWORD, STATIC, ONPREM_TOKEN,
           PASSWORD_B64, quote_plus(PASSWORD_B64)]

ACCOUNTS = "https://accounts.zoho.com"
URL = BASE + "/api/1.4/patch/things"


@pytest.fixture
def texts() -> Iterator[list[str]]:
    """Every text the scenario produced; scanned for secrets at teardown."""
    produced: list[str] = []
    with capturing_every_logger() as handler:
        yield produced
    everything = produced + handler.lines
    assert everything, "the scenario produced nothing to scan"
    for text in everything:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into: {text[:200]!r}"


def run(scenario: Callable[[], object], texts: list[str]) -> None:
    try:
        result = scenario()
        texts.append(repr(result))
    except PMPIntelError as exc:
        texts.extend([str(exc), repr(exc), getattr(exc, "sample", ""), repr(exc.args)])
        logging.getLogger("test").exception("scenario failed")


def record_client(client: PMPClient, events: object, texts: list[str]) -> None:
    texts.extend([repr(client), repr(client.tokens), repr(client.tokens.provider),
                  repr(client.tokens.store)])
    texts.extend(repr(e) for e in events.events)  # type: ignore[attr-defined]


@responses.activate
def test_oauth_flows_leak_nothing(texts: list[str]) -> None:
    token_url = ACCOUNTS + "/oauth/v2/token"
    for access in ACCESS_TOKENS[:2]:
        responses.post(token_url, json={"access_token": access, "expires_in": 3600,
                                        "refresh_token": REFRESH_TOKEN})
    # The server echoes the token and secrets back in an error page: samples must mask them.
    echo = (f"<html>Authorization: Zoho-oauthtoken {ACCESS_TOKENS[0]} "
            f"client_secret={CLIENT_SECRET} refresh_token={REFRESH_TOKEN}</html>")
    responses.get(URL, status=401, body=echo)
    responses.get(URL, status=500, body=echo)
    responses.get(URL, status=200, body=echo)
    responses.get(URL, status=503, body=echo)
    responses.post(token_url, json={"error": f"invalid_client {CLIENT_SECRET}"})
    provider = ZohoOAuthProvider(ACCOUNTS, "cid", SecretStr(CLIENT_SECRET),
                                 SecretStr(REFRESH_TOKEN))
    client, events, _ = make_client(provider=provider)
    run(lambda: client.get_page(Spec()), texts)
    run(lambda: client.tokens.refresh(RefreshReason.UNAUTHORIZED), texts)
    record_client(client, events, texts)
    texts.append(sample(echo))


@responses.activate
def test_onprem_flows_leak_nothing(texts: list[str]) -> None:
    login = BASE + "/api/1.3/desktop/authentication"
    responses.post(login, status=405)
    responses.post(login, json={"message_response": {"authentication": {
        "auth_data": {"auth_token": ONPREM_TOKEN}}}, "status": "success"})
    responses.get(URL, body=envelope("things", [{"password": PASSWORD}], total=1))
    responses.post(login, json={"message_response": {"authentication": {
        "two_factor_data": {"is_TwoFactor_Enabled": "true"}}}})
    provider = OnPremLoginProvider(BASE, "admin", SecretStr(PASSWORD))
    client, events, _ = make_client(provider=provider)
    run(lambda: client.get_page(Spec()), texts)
    run(lambda: client.tokens.refresh(RefreshReason.UNAUTHORIZED), texts)  # 2FA on re-login
    record_client(client, events, texts)
    assert [c.request.method for c in responses.calls] == ["POST", "POST", "GET", "POST"]


@responses.activate
def test_onprem_get_form_leaks_nothing(texts: list[str]) -> None:
    """The GET form puts the base64 password in the URL: refusals, transport errors and
    answers that echo the URL must not carry it anywhere."""
    login = BASE + "/api/1.3/desktop/authentication"
    echoed = f"{login}?username=admin&password={quote_plus(PASSWORD_B64)}"
    responses.post(login, status=405, body=f"POST not allowed: {echoed}")
    responses.get(login, json={"status": "error", "error_code": "10002",
                               "error_description": f"Invalid password {PASSWORD_B64}"})
    provider = OnPremLoginProvider(BASE, "admin", SecretStr(PASSWORD))
    client, events, _ = make_client(provider=provider)
    run(lambda: client.get_page(Spec()), texts)  # refused on GET, the last form
    responses.replace(responses.GET, login, json={"message_response": {"authentication": {
        "auth_data": {"auth_token": ONPREM_TOKEN}}}, "status": "success"})
    responses.get(URL, status=401, body=echoed)
    responses.get(URL, body=envelope("things", [], total=0))
    run(lambda: client.get_page(Spec()), texts)  # logs in with GET, then a 401 on the page
    responses.replace(responses.GET, login, body=requests.ConnectionError(f"reset: {echoed}"))
    run(lambda: client.tokens.refresh(RefreshReason.UNAUTHORIZED), texts)
    record_client(client, events, texts)
    logins = [c.request for c in responses.calls if "authentication" in c.request.url]
    assert [r.method for r in logins] == ["POST", "POST", "GET", "POST", "POST", "GET", "GET",
                                          *["GET"] * 4]
    assert quote_plus(PASSWORD_B64) in logins[2].url  # the scan above is not vacuous


@responses.activate
def test_static_token_and_settings_leak_nothing(texts: list[str]) -> None:
    responses.get(URL, body=requests.ConnectionError(f"reset while sending {STATIC}"))
    client, events, _ = make_client(provider=StaticTokenProvider(SecretStr(STATIC)))
    run(lambda: client.get_page(Spec()), texts)
    record_client(client, events, texts)
    settings = Settings(base_url=BASE, auth="oauth", client_id="cid",
                        client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                        password=PASSWORD, token=STATIC)
    texts.append(repr(settings))
    texts.append(str(settings.model_dump()))
    run(lambda: PMPClient.from_settings(Settings(base_url="https://pmp.corp:8383", auth="oauth",
                                                 client_id="cid", client_secret=CLIENT_SECRET,
                                                 refresh_token=REFRESH_TOKEN)), texts)


def test_urllib3_request_lines_are_redacted(texts: list[str]) -> None:
    from pmp_intel.api.session import build_session

    build_session()
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "pmp", 443, "POST",
        f"/api/1.3/desktop/authentication?username=a&password={PASSWORD}", "HTTP/1.1", 200, 10)
    texts.append("urllib3 line checked")
