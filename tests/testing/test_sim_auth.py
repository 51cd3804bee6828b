"""Zoho OAuth, the on-premises login and static tokens (pmp-api.md §2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlencode

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


def _login(
    app: SimulatorApp, form: str, password: str | None = None, version: str = "1.3"
) -> tuple[int, dict[str, object] | None]:
    """Log in with one of the three forms: ``(status, envelope or None)``."""
    creds = app.authority.credentials
    params = {
        "username": creds["username"],
        "password": base64.b64encode((password or creds["password"]).encode()).decode(),
        "auth_type": creds["auth_type"],
    }
    path = f"/api/{version}/desktop/authentication"
    if form == "json":
        response = app.handle(
            "POST", path, "", None, json.dumps(params).encode(), "application/json"
        )
    elif form == "form-body":
        response = app.handle(
            "POST", path, "", None, urlencode(params).encode(), "application/x-www-form-urlencoded"
        )
    else:
        response = app.handle("GET" if form == "get" else "POST", path, urlencode(params), None)
    return response.status, json.loads(response.body) if response.body else None


@pytest.mark.parametrize("version", ["1.0", "1.3", "1.4"])
@pytest.mark.parametrize("form", ["get", "post-query", "form-body", "json"])
def test_onprem_login_accepts_every_documented_form_by_default(form: str, version: str) -> None:
    app = make_app(auth="onprem")
    status, answer = _login(app, form, version=version)
    assert status == 200
    assert answer is not None
    assert answer["status"] == "success"
    assert answer["message_version"] == version
    auth = answer["message_response"]["authentication"]  # type: ignore[index]
    token = auth["auth_data"]["auth_token"]
    assert get(app, api("summary"), token)[0] == 200
    refused = _login(app, form, password="wrong")[1]
    assert refused is not None
    assert refused["error_code"] == "10002"


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        # PMP's docs taken literally: GET only, a POST is not served
        (("get",), {"get": 200, "post-query": 405, "form-body": 405, "json": 405}),
        # C2-style: parameters from the query string or a form body; a JSON body is ignored
        (("get", "post"), {"get": 200, "post-query": 200, "form-body": 200, "json": "refused"}),
        # EC-MSP: POST with a JSON body; a query string is not read
        (("json",), {"get": 405, "post-query": "refused", "form-body": "refused", "json": 200}),
    ],
)
def test_onprem_login_forms_a_server_does_not_read(
    forms: tuple[str, ...], expected: dict[str, object]
) -> None:
    app = make_app(auth="onprem", login_forms=forms)
    for form, outcome in expected.items():
        status, answer = _login(app, form)
        if outcome == "refused":  # parameters ignored: the legacy HTTP 200 error envelope
            assert status == 200, form
            assert answer is not None
            assert (answer["status"], answer["error_code"]) == ("error", "10002"), form
        elif outcome == 405:
            assert (status, answer) == (405, None), form
        else:
            assert status == 200, form
            assert answer is not None
            assert answer["status"] == "success", form
    assert all(r.endpoint == "authentication" for r in app.request_log)


def test_onprem_login_forms_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="login_forms"):
        make_app(auth="onprem", login_forms=("put",))
    with pytest.raises(ValueError, match="login_forms"):
        make_app(auth="onprem", login_forms=())
    assert make_app(auth="onprem", login_forms=["get"]).settings.login_forms == ("get",)
