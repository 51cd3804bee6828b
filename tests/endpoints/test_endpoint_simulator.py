"""Integration: every endpoint against the simulated PMP server (pmp_intel.testing).

Both auth modes (plus the static token), typed and stringly wire values, and random faults
at 10 % with a fixed seed: each endpoint must yield exactly the simulator's records, every
record must validate, and no secret may appear in any log line, exception, event or repr.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock
from pmp_intel.api.events import (
    AttemptEvent,
    EndpointNotSupportedEvent,
    EventCollector,
    InvalidRecordEvent,
    TokenRefreshEvent,
)
from pmp_intel.api.paginate import Page, PageFailure
from pmp_intel.endpoints import BUILTIN_ORDER, Endpoint, registry
from pmp_intel.settings import Settings

testing = pytest.importorskip("pmp_intel.testing")
simulated_pmp = getattr(testing, "simulated_pmp", None)
pytestmark = pytest.mark.skipif(simulated_pmp is None, reason="simulator not built yet")

SYSTEMS = 40
OPTIONAL = ("vulnerabilities", "deploymenttasks", "patchgroups")
FAN_OUT_PARENTS = 6


def credential(pmp: Any, name: str) -> Any:
    creds = pmp.credentials
    return creds.get(name) if isinstance(creds, Mapping) else getattr(creds, name, None)


def secrets_of(pmp: Any) -> list[str]:
    names = ("client_secret", "refresh_token", "password", "token")
    return [str(v) for v in (credential(pmp, n) for n in names) if v]


def client_for(pmp: Any, auth: str, events: EventCollector, **overrides: Any) -> PMPClient:
    values: dict[str, Any] = {"base_url": pmp.base_url, "auth": auth, "read_timeout": 0.5,
                              "connect_timeout": 2.0, "max_attempts": 4, "rate_limit": 1000.0}
    if auth == "oauth":
        values.update(accounts_url=pmp.accounts_url, client_id=credential(pmp, "client_id"),
                      client_secret=credential(pmp, "client_secret"),
                      refresh_token=credential(pmp, "refresh_token"))
    elif auth == "onprem":
        values.update(username=credential(pmp, "username"),
                      password=credential(pmp, "password"),
                      auth_type=credential(pmp, "auth_type") or "local_authentication")
    else:
        values.update(token=credential(pmp, "token"))
    values.update(overrides)
    return PMPClient.from_settings(Settings(**values), on_event=events, clock=FakeClock())


class Scan(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = Scan()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def read(client: PMPClient, endpoint: Endpoint, parent: Any = None) -> tuple[
    list[Any], list[Page], list[PageFailure]
]:
    raw: list[Any] = []
    pages: list[Page] = []
    failures: list[PageFailure] = []
    for outcome in client.iter_pages(endpoint, parent=parent):
        if isinstance(outcome, PageFailure):
            failures.append(outcome)
        else:
            pages.append(outcome)
            raw.extend(outcome.raw)
    return raw, pages, failures


def parents(pmp: Any, endpoint: Endpoint) -> list[Any]:
    assert endpoint.parent_endpoint
    assert endpoint.parent_field
    records = pmp.records(endpoint.parent_endpoint)
    values = [r[endpoint.parent_field] for r in records]
    return values[:: max(1, len(values) // FAN_OUT_PARENTS)][:FAN_OUT_PARENTS]


def check_all_endpoints(pmp: Any, client: PMPClient, events: EventCollector) -> None:
    for name in BUILTIN_ORDER:
        endpoint = registry.get(name)
        if endpoint.paging.fan_out:
            for parent in parents(pmp, endpoint):
                raw, pages, failures = read(client, endpoint, parent)
                assert failures == [], (name, parent, failures)
                expected = list(pmp.records(name, **{endpoint.parent_param or "": str(parent)}))
                assert raw == expected, (name, parent)
                for page in pages:
                    for record in page.records:
                        assert list(endpoint.rows(record, parent=page.parent))
            continue
        raw, pages, failures = read(client, endpoint)
        assert failures == [], (name, failures)
        assert pages, name
        if endpoint.paging.value == "single":
            assert len(raw) == 1
        else:
            assert raw == list(pmp.records(name)), name
            assert pages[-1].total in (None, len(raw)), name
        assert all(not page.invalid for page in pages), (name, pages[0].invalid[:1])
        for page in pages:
            for record in page.records:
                rows = list(endpoint.rows(record, parent=page.parent))
                if endpoint.entity is None:
                    assert rows == [], name
                elif name not in {"dcapi_patches", "dcapi_systemreport"}:
                    assert len(rows) >= 1, name
                endpoint.summary_columns(record)
    assert events.of(InvalidRecordEvent) == []


def assert_no_secret(pmp: Any, client: PMPClient, events: EventCollector,
                     lines: list[str], extra: list[str] = ()) -> None:  # type: ignore[assignment]
    texts = [*lines, *(repr(e) for e in events.events), repr(client), repr(client.tokens),
             *extra]
    issued = [e for e in events.of(TokenRefreshEvent) if e.ok]
    assert issued, "no token was issued, nothing was proven"
    for secret in secrets_of(pmp):
        for text in texts:
            assert secret not in text, f"secret leaked into {text[:160]!r}"


@pytest.mark.parametrize("auth", ["oauth", "onprem", "token"])
@pytest.mark.parametrize("stringly", [False, True], ids=["typed", "stringly"])
def test_every_endpoint_yields_exactly_the_simulators_records(
    auth: str, stringly: bool, log_lines: list[str]
) -> None:
    assert simulated_pmp is not None
    with simulated_pmp(systems=SYSTEMS, seed=7, auth=auth, stringly=stringly,
                       optional_endpoints=OPTIONAL) as pmp:
        events = EventCollector()
        with client_for(pmp, auth, events) as client:
            check_all_endpoints(pmp, client, events)
            assert_no_secret(pmp, client, events, log_lines)


@pytest.mark.parametrize("auth", ["oauth", "onprem"])
def test_random_faults_at_ten_percent_lose_nothing(auth: str, log_lines: list[str]) -> None:
    assert simulated_pmp is not None
    with simulated_pmp(systems=SYSTEMS, seed=7, auth=auth, stringly=True,
                       optional_endpoints=OPTIONAL,
                       faults="rate=0.1,kinds=503+html+timeout,seed=7") as pmp:
        events = EventCollector()
        with client_for(pmp, auth, events, max_attempts=6) as client:
            check_all_endpoints(pmp, client, events)
            retried = [e for e in events.of(AttemptEvent) if e.error_type.value != "ok"]
            assert retried, "the fault spec injected nothing"
            kinds = {e.error_type.value for e in retried}
            assert kinds <= {"server_error", "html_throttle", "timeout", "connection_error"}
            assert_no_secret(pmp, client, events, log_lines)


def test_optional_endpoints_report_not_supported(log_lines: list[str]) -> None:
    assert simulated_pmp is not None
    with simulated_pmp(systems=10, seed=7, auth="token") as pmp:
        events = EventCollector()
        with client_for(pmp, "token", events) as client:
            for name in OPTIONAL:
                [outcome] = list(client.iter_pages(registry.get(name)))
                assert isinstance(outcome, PageFailure)
                assert outcome.not_supported
            assert [e.endpoint for e in events.of(EndpointNotSupportedEvent)] == list(OPTIONAL)


def test_expired_tokens_are_refreshed_mid_run(log_lines: list[str]) -> None:
    assert simulated_pmp is not None
    with simulated_pmp(systems=SYSTEMS, seed=7, auth="oauth") as pmp:
        events = EventCollector()
        with client_for(pmp, "oauth", events, page_limit=25) as client:
            endpoint = registry.get("allsystems")
            iterator = client.iter_pages(endpoint)
            first = next(iterator)
            pmp.expire_tokens()
            rest = list(iterator)
            raw = [*first.raw, *(r for p in rest if isinstance(p, Page) for r in p.raw)]
            assert raw == list(pmp.records("allsystems"))
            reasons = [e.reason.value for e in events.of(TokenRefreshEvent) if e.ok]
            assert reasons == ["initial", "401"]
            assert_no_secret(pmp, client, events, log_lines)


def test_targeted_faults_and_a_server_page_cap(log_lines: list[str]) -> None:
    assert simulated_pmp is not None
    faults = ("allsystems:page=2:429(date);allpatches:page=1:truncated;"
              "scandetails:page=2:emptylist*2;summary:html;viewconfig:page=1:401")
    with simulated_pmp(systems=SYSTEMS, seed=11, auth="oauth", faults=faults,
                       page_cap=10) as pmp:
        events = EventCollector()
        with client_for(pmp, "oauth", events) as client:
            for name in ("allsystems", "allpatches", "scandetails", "summary", "viewconfig"):
                raw, pages, failures = read(client, registry.get(name))
                assert failures == [], name
                if name != "summary":
                    assert raw == list(pmp.records(name)), name
                    assert {p.limit for p in pages} == {10}, name  # the echo wins
            kinds = [(e.endpoint, e.error_type.value, e.action.value)
                     for e in events.of(AttemptEvent) if e.error_type.value != "ok"]
            assert ("allsystems", "rate_limited", "wait_and_retry") in kinds
            assert ("allpatches", "invalid_json", "retry_once") in kinds
            assert kinds.count(("scandetails", "empty_page", "backoff_and_retry")) == 2
            assert ("summary", "html_throttle", "wait_and_retry") in kinds
            assert ("viewconfig", "unauthorized", "refresh_and_retry") in kinds
            assert_no_secret(pmp, client, events, log_lines)


@pytest.mark.parametrize(("auth", "field"), [("oauth", "client_secret"),
                                             ("oauth", "refresh_token"),
                                             ("onprem", "password")])
def test_refused_credentials_fail_fast_without_leaking(
    auth: str, field: str, log_lines: list[str]
) -> None:
    from pmp_intel.api.errors import AuthenticationError

    assert simulated_pmp is not None
    wrong = f"WRONG-{field}-0123456789"
    with simulated_pmp(systems=5, seed=7, auth=auth) as pmp:
        events = EventCollector()
        with client_for(pmp, auth, events, **{field: wrong}) as client:
            with pytest.raises(AuthenticationError) as info:
                list(client.iter_pages(registry.get("allsystems")))
            texts = [str(info.value), repr(info.value), *log_lines,
                     *(repr(e) for e in events.events)]
            for secret in [*secrets_of(pmp), wrong]:
                assert all(secret not in text for text in texts), secret
            assert info.value.exit_code == 1
            assert not any(r.path.endswith("allsystems") for r in pmp.request_log)
