"""`pmp-intel extract` / `status` from the command line: exit codes 0, 1 and 2."""

from __future__ import annotations

import json

import pytest
from sim_extraction import settings_for

from pmp_intel.cli import main
from pmp_intel.testing import simulated_pmp


def environment(monkeypatch: pytest.MonkeyPatch, settings) -> None:  # type: ignore[no-untyped-def]
    names = {
        "base_url": "PMP_BASE_URL",
        "accounts_url": "PMP_ACCOUNTS_URL",
        "client_id": "PMP_CLIENT_ID",
        "source_name": "PMP_INTEL_SOURCE",
        "page_limit": "PMP_PAGE_LIMIT",
    }
    for attribute, variable in names.items():
        monkeypatch.setenv(variable, str(getattr(settings, attribute)))
    monkeypatch.setenv("PMP_CLIENT_SECRET", settings.client_secret.get_secret_value())
    monkeypatch.setenv("PMP_REFRESH_TOKEN", settings.refresh_token.get_secret_value())
    monkeypatch.setenv("PMP_RATE_LIMIT", "1000")


def test_extract_then_status(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulated_pmp(systems=20, seed=21) as pmp:
        environment(monkeypatch, settings_for(pmp, database_url))
        assert main(["--database-url", database_url, "extract", "--log-format", "json"]) == 0
        logs = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert logs[-1]["event_type"] == "snapshot_finished"
        assert logs[-1]["exit_code"] == 0
        assert main(["--database-url", database_url, "status"]) == 0
        out = capsys.readouterr().out
        assert "complete" in out
        assert "Open gaps: none" in out
        assert main(["--database-url", database_url, "extract", "--status", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["snapshots"][0]["status"] == "complete"
        assert report["lock_holder"] is None


def test_gaps_exit_2_and_bad_credentials_exit_1(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulated_pmp(systems=20, seed=22, page_cap=10) as pmp:
        environment(monkeypatch, settings_for(pmp, database_url, page_limit=10))
        pmp.set_faults("allpatches:page=2:503*inf")
        monkeypatch.setenv("PMP_MAX_ATTEMPTS", "2")
        code = main(["--database-url", database_url, "extract", "--log-format", "json"])
        assert code == 2
        capsys.readouterr()
        monkeypatch.setenv("PMP_REFRESH_TOKEN", "wrong-refresh-token")
        monkeypatch.setenv("PMP_INTEL_SOURCE", "another-source")
        code = main(["--database-url", database_url, "extract", "--log-format", "json"])
        err = capsys.readouterr().err
        assert code == 1
        assert "wrong-refresh-token" not in err
        assert err.strip().splitlines()[-1].startswith("pmp-intel: error: ")


def test_missing_base_url_is_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", database_url, "extract"]) == 1
    assert capsys.readouterr().err.strip() == (
        "pmp-intel: error: PMP_BASE_URL is not set: which PMP server to extract?"
    )
