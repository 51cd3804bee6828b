"""Zoho OAuth, the on-premises login and static tokens (pmp-api.md §2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sim_helpers import FakeClock, api, get, make_app

from pmp_intel.testing import SimulatorApp, simulated_pmp


def _refresh(app: SimulatorApp, **override: str) -> dict[str, object]:
    params = {**app.authority.credentials, "grant_type": "refresh_token", **override}
    body = "&".join(f"{k}={v}" for k, v in params.items()).encode()
    response = app.handle(
        "POST", "/accounts/oauth/v2/token", "", None, body, "application/x-www-form-urlencoded"
    )
    assert response.status == 200
    return json.loads(response.body)  # type: ignore[no-any-return]


def test_oauth_refresh_then_zoho_header_until_the_ttl(clock: FakeClock) -> None:
    app = make_app(clock, auth="oauth", token_ttl=600)
    answer = _refresh(app)
    assert set(answer) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert answer["expires_in"] == 600
    assert answer["token_type"] == "Bearer"
    header = f"Zoho-oauthtoken {answer['access_token']}"
    assert get(app, api("summary"), header)[0] == 200
    clock.now += 599
    assert get(app, api("summary"), header)[0] == 200
    clock.now += 1
    status, body = get(app, api("summary"), header)
    assert status == 401
    assert body["error_code"] == "INVALID_OAUTHTOKEN"
    assert [r.auth_kind for r in app.request_log[-3:]] == ["zoho", "zoho", "zoho"]


def test_oauth_rejects_bad_clients_unknown_tokens_and_bearer(clock: FakeClock) -> None:
    app = make_app(clock, auth="oauth")
    assert _refresh(app, client_secret="nope") == {"error": "invalid_client"}
    assert _refresh(app, refresh_token="1000.bad") == {"error": "invalid_code"}
    token = _refresh(app)["access_token"]
    assert get(app, api("summary"), "Zoho-oauthtoken 1000.unknown")[0] == 401
    assert get(app, api("summary"), f"Bearer {token}")[0] == 401
    assert get(app, api("summary"))[0] == 401
    lenient = make_app(clock, auth="oauth", accept_bearer=True)
    assert get(lenient, api("summary"), f"Bearer {_refresh(lenient)['access_token']}")[0] == 200
    assert [r.auth_kind for r in lenient.request_log[-1:]] == ["bearer"]


def test_query_string_refresh_and_expire_tokens() -> None:
    app = make_app(auth="oauth")
    query = "&".join(f"{k}={v}" for k, v in app.authority.credentials.items())
    response = app.handle(
        "POST", "/accounts/oauth/v2/token", query + "&grant_type=refresh_token", None
    )
    token = json.loads(response.body)["access_token"]
    assert get(app, api("summary"), f"Zoho-oauthtoken {token}")[0] == 200
    app.authority.expire_all()
    assert get(app, api("summary"), f"Zoho-oauthtoken {token}")[0] == 401
    assert app.handle("GET", "/accounts/oauth/v2/token", query, None).status == 405


def test_onprem_login_get_post_and_json_then_bare_token() -> None:
    app = make_app(auth="onprem")
    creds = app.authority.credentials
    encoded = base64.b64encode(creds["password"].encode()).decode()
    query = f"username={creds['username']}&password={encoded}&auth_type=local_authentication"
    tokens = []
    for method, q, body, ctype in (
        ("GET", query, b"", ""),
        ("POST", query, b"", ""),
        (
            "POST",
            "",
            json.dumps(
                {
                    "username": creds["username"],
                    "password": encoded,
                    "auth_type": "local_authentication",
                }
            ).encode(),
            "application/json",
        ),
    ):
        response = app.handle(method, "/api/1.3/desktop/authentication", q, None, body, ctype)
        answer = json.loads(response.body)
        assert answer["status"] == "success"
        assert answer["message_type"] == "authentication"
        tokens.append(answer["message_response"]["authentication"]["auth_data"]["auth_token"])
    assert len(set(tokens)) == 3
    assert get(app, api("allsystems"), tokens[0])[0] == 200
    assert app.request_log[-1].auth_kind == "raw"
    status, body = get(app, api("allsystems"), f"Zoho-oauthtoken {tokens[0]}")
    assert status == 401
    assert "ErrorMsg" in body


def test_onprem_login_needs_a_base64_password() -> None:
    app = make_app(auth="onprem")
    creds = app.authority.credentials
    plain = (
        f"username={creds['username']}&password={creds['password']}&auth_type=local_authentication"
    )
    status, body = get(
        app,
        "/api/1.4/desktop/authentication",
        None,
        **dict(p.split("=", 1) for p in plain.split("&")),
    )
    assert status == 200
    assert body["status"] == "error"


def test_static_token_and_no_auth() -> None:
    app = make_app(auth="token")
    token = app.authority.credentials["token"]
    assert get(app, api("summary"), token)[0] == 200
    assert get(app, api("summary"), "wrong")[0] == 401
    assert get(make_app(auth="none"), api("summary"))[0] == 200


@pytest.mark.parametrize("auth", ["oauth", "onprem", "token"])
def test_client_settings_log_in_under_the_servers_auth_mode(auth: str, tmp_path: Path) -> None:
    """``SimulatedPMP.client_settings``: Settings for this server and its auth mode, which
    a real client accepts (one page of allsystems read), with overrides applied."""
    from pmp_intel.api.client import PMPClient
    from pmp_intel.endpoints import registry

    with simulated_pmp(systems=5, auth=auth) as pmp:
        settings = pmp.client_settings(
            database_url=f"sqlite:///{tmp_path / 'x.db'}", source_name="mine", rate_limit=500.0
        )
        assert (settings.auth, settings.base_url, settings.source_name) == (
            auth,
            pmp.base_url,
            "mine",
        )
        with PMPClient.from_settings(settings) as client:
            page = client.get_page(registry.get("allsystems"), 1)
        assert len(page.records) == 5
