"""The loopback server: real HTTP with requests, transport faults, fixtures, the CLI."""

from __future__ import annotations

import argparse
import threading

import pytest
import requests

from pmp_intel.cli.context import CommandContext
from pmp_intel.cli.simulator import run as run_cli
from pmp_intel.testing import SimulatedPMP, simulated_pmp


def test_contract_names_and_a_full_oauth_extraction() -> None:
    with simulated_pmp(systems=80, seed=9, auth="oauth") as pmp:
        assert pmp.base_url.startswith("http://127.0.0.1:")
        assert pmp.accounts_url == f"{pmp.base_url}/accounts"
        assert set(pmp.credentials) == {"client_id", "client_secret", "refresh_token"}
        token = requests.post(
            f"{pmp.accounts_url}/oauth/v2/token",
            data={**pmp.credentials, "grant_type": "refresh_token"},
            timeout=5,
        ).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        fetched, page = [], 1
        while True:
            reply = session.get(
                f"{pmp.base_url}/api/1.4/patch/allsystems", params={"page": page}, timeout=5
            )
            assert reply.headers["Content-Type"] == "text/plain;charset=UTF-8"
            batch = reply.json()["message_response"]["allsystems"]
            if not batch:
                break
            fetched += batch
            page += 1
        assert fetched == list(pmp.records("allsystems"))
        assert len(fetched) == pmp.total("allsystems") == 80
        log = [r for r in pmp.request_log if r.endpoint == "allsystems"]
        assert [r.page for r in log] == list(range(1, page + 1))
        assert {r.auth_kind for r in log} == {"zoho"}
        assert {r.status for r in log} == {200}
        assert all(r.elapsed_s >= 0 for r in log)


def test_connection_reset_and_read_timeout_over_the_wire(small_server: SimulatedPMP) -> None:
    small_server.set_faults("summary:reset;allsystems:timeout")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{small_server.base_url}/api/1.4/patch/summary", timeout=5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{small_server.base_url}/api/1.4/patch/allsystems", timeout=0.3)
    small_server.clear_faults()
    assert requests.get(f"{small_server.base_url}/api/1.4/patch/summary", timeout=5).ok
    assert [r.fault for r in small_server.request_log] == ["reset", "timeout", None]


def test_advance_and_expire_tokens_through_the_facade() -> None:
    with SimulatedPMP(systems=100, seed=4, auth="token") as pmp:
        header = {"Authorization": pmp.credentials["token"]}
        before = pmp.total("allpatches")
        pmp.advance(days=20)
        assert pmp.total("allpatches") != before
        pmp.expire_tokens()  # the static token is not an issued one: it keeps working
        url = f"{pmp.base_url}/api/1.4/patch/allpatches"
        assert requests.get(url, headers=header, timeout=5).status_code == 200
        pmp.set_faults("allpatches:401")
        assert requests.get(url, headers=header, timeout=5).status_code == 401
    with pytest.raises(RuntimeError):
        _ = pmp.base_url


def test_supported_catalogue_size_is_an_option() -> None:
    pmp = SimulatedPMP(systems=30, seed=2, supported_patches=10)
    applicable = pmp.total("allpatches")
    assert pmp.total("supportedpatches") == applicable + 10
    assert SimulatedPMP(systems=30, seed=2).total("supportedpatches") == applicable + 107 * 30


def test_records_respects_filters_and_unknown_names(small_server: SimulatedPMP) -> None:
    healthy = list(small_server.records("allsystems", healthfilter=1))
    assert healthy
    assert {r["resource_health_status"] for r in healthy} == {1}
    assert small_server.total("allsystems", healthfilter=1) == len(healthy)
    assert next(small_server.records("summary"))["system_summary"]["total_systems"] == 60
    with pytest.raises(KeyError):
        small_server.total("nonsense")


def test_pytest_fixture_serves(simulated_pmp_server: SimulatedPMP) -> None:
    assert simulated_pmp_server.total("allsystems") == 200
    assert "refresh_token" in simulated_pmp_server.credentials


@pytest.mark.parametrize("simulated_pmp_server", [{"auth": "onprem", "systems": 30}], indirect=True)
def test_pytest_fixture_takes_parameters(simulated_pmp_server: SimulatedPMP) -> None:
    assert simulated_pmp_server.credentials["auth_type"] == "local_authentication"
    assert simulated_pmp_server.total("scandetails") == 30


def test_cli_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(
        port=0,
        host="127.0.0.1",
        systems=40,
        seed=3,
        faults="allsystems:page=3:503*5",
        auth="token",
        stringly=True,
        token_ttl=60.0,
        page_cap=500,
        optional="patchgroups",
    )
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_cli(args, CommandContext(args), stop))
    )
    thread.start()
    try:
        for _ in range(200):
            if "Press Ctrl-C" in capsys.readouterr().out:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(5)
    assert result == [0]


def test_cli_rejects_a_bad_fault_spec() -> None:
    from pmp_intel.cli import main

    assert main(["simulator", "--faults", "allsystems:bogus", "--port", "0"]) == 1
