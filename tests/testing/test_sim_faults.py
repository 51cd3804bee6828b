"""Fault specifications and every fault kind."""

from __future__ import annotations

import json

import pytest
from sim_helpers import FakeClock, api, get, make_app

from pmp_intel.testing import FAULT_KINDS, FaultRule, FaultSpec, FaultSpecError, RateLimit


def test_parse_the_cli_forms_and_round_trip() -> None:
    spec = FaultSpec.parse("rate=0.1,kinds=503+html+timeout,seed=7")
    assert (spec.rate, spec.kinds, spec.seed) == (0.1, ("503", "html", "timeout"), 7)
    rule = FaultSpec.parse("allsystems:page=3:503*5").rules[0]
    assert rule == FaultRule("503", "allsystems", (("page", "3"),), 5)
    text = "allsystems:page=2:drift(3);summary:429(date)*inf;limit=3000/300,reply=html"
    parsed = FaultSpec.parse(text)
    assert parsed.rate_limit == RateLimit(3000, 300.0, "html")
    assert FaultSpec.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    ["allsystems:bogus", "rate=2", "x:page3:503", "limit=abc", "rate=0.1,kinds=nope", "allsystems"],
)
def test_bad_specs_are_rejected(text: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultSpec.parse(text)


def test_targeted_rule_hits_only_its_page_and_count() -> None:
    app = make_app(faults="allsystems:page=3:503*2")
    statuses = [get(app, api("allsystems"), page=p)[0] for p in (1, 3, 3, 3, 2)]
    assert statuses == [200, 503, 503, 200, 200]
    assert [r.fault for r in app.request_log] == [None, "503", "503", None, None]


@pytest.mark.parametrize(
    ("kind", "status"), [("500", 500), ("502", 502), ("503", 503), ("504", 504), ("401", 401)]
)
def test_http_error_kinds(kind: str, status: int) -> None:
    app = make_app(faults=f"allpatches:{kind}")
    assert get(app, api("allpatches"))[0] == status
    assert get(app, api("allpatches"))[0] == 200


def test_429_with_seconds_or_http_date() -> None:
    app = make_app(faults="summary:429(30);summary:429(date)")
    first = app.handle("GET", api("summary"), "", None)
    second = app.handle("GET", api("summary"), "", None)
    assert (first.status, dict(first.headers)["Retry-After"]) == (429, "30")
    assert second.status == 429
    assert dict(second.headers)["Retry-After"].endswith("GMT")


def test_html_throttle_page_is_http_200() -> None:
    status, body = get(make_app(faults="allsystems:html"), api("allsystems"))
    assert status == 200
    assert body.startswith("<!DOCTYPE html>")


def test_truncated_empty_and_emptylist_bodies() -> None:
    app = make_app(faults="allsystems:truncated;allsystems:empty;allsystems:emptylist")
    truncated = app.handle("GET", api("allsystems"), "", None)
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.body)
    assert truncated.status == 200
    assert truncated.body
    assert app.handle("GET", api("allsystems"), "", None).body == b""
    body = json.loads(app.handle("GET", api("allsystems"), "", None).body)
    assert body["message_response"]["allsystems"] == []
    assert body["message_response"]["total"] > 25


def test_drift_shifts_records_between_pages() -> None:
    app = make_app(faults="allsystems:page=2:drift(3)")
    page1 = get(app, api("allsystems"), page=1)[1]["message_response"]["allsystems"]
    page2 = get(app, api("allsystems"), page=2)[1]["message_response"]["allsystems"]
    assert [r["resource_id"] for r in page2[:3]] == [r["resource_id"] for r in page1[-3:]]


def test_latency_uses_the_injected_sleeper(clock: FakeClock) -> None:
    app = make_app(clock, faults="summary:latency(1500)", latency=0.25)
    assert get(app, api("summary"))[0] == 200
    assert clock.slept == [pytest.approx(1.75)]
    assert app.request_log[-1].fault == "latency"


def test_expire_invalidates_tokens_mid_run(clock: FakeClock) -> None:
    app = make_app(clock, auth="oauth", faults="allsystems:page=2:expire")
    creds = app.authority.credentials
    query = "&".join(f"{k}={v}" for k, v in creds.items()) + "&grant_type=refresh_token"
    token = json.loads(app.handle("POST", "/accounts/oauth/v2/token", query, None).body)
    header = f"Zoho-oauthtoken {token['access_token']}"
    assert get(app, api("allsystems"), header, page=1)[0] == 200
    assert get(app, api("allsystems"), header, page=2)[0] == 401
    assert get(app, api("allsystems"), header, page=1)[0] == 401  # the token stays dead


def test_reset_and_timeout_raise_without_a_socket() -> None:
    app = make_app(faults="allsystems:reset;allsystems:timeout")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": api("allsystems"), "QUERY_STRING": ""}
    with pytest.raises(ConnectionResetError):
        app(environ, lambda *a: None)
    with pytest.raises(TimeoutError):
        app(environ, lambda *a: None)
    assert [r.status for r in app.request_log] == [0, 0]


def test_random_faults_are_deterministic_by_seed() -> None:
    def run(seed: int) -> list[str | None]:
        app = make_app(faults=f"rate=0.3,kinds=503+html+500,seed={seed}")
        for page in range(1, 30):
            get(app, api("allpatches"), page=page)
        return [r.fault for r in app.request_log]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 3 <= sum(f is not None for f in first) <= 17
    assert {f for f in first if f} <= {"503", "html", "500"}


def test_rate_limit_answers_429_then_recovers(clock: FakeClock) -> None:
    app = make_app(clock, faults="limit=3/10")
    statuses = [get(app, api("summary"))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    retry = dict(app.handle("GET", api("summary"), "", None).headers)["Retry-After"]
    assert int(retry) == 10
    clock.now += 10
    assert get(app, api("summary"))[0] == 200
    html = make_app(clock, faults="limit=1/1,reply=html")
    assert [get(html, api("summary"))[0] for _ in range(2)] == [200, 200]
    assert get(html, api("summary"))[1].startswith("<!DOCTYPE html>")


def test_every_kind_is_documented_and_parseable() -> None:
    for kind in FAULT_KINDS:
        assert FaultSpec.parse(f"summary:{kind}").rules[0].kind == kind
