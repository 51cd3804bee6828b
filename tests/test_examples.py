"""The example scripts run: an extraction from cron, then a compliance report to a file."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from pmp_intel.testing import simulated_pmp

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(monkeypatch: pytest.MonkeyPatch, name: str, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", [name, *args])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return int(done.value.code or 0)


def test_cron_extraction_then_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("PMP_INTEL_SOURCE", "examples")
    with simulated_pmp(systems=20, seed=5, auth="token") as pmp:
        monkeypatch.setenv("PMP_BASE_URL", pmp.base_url)
        monkeypatch.setenv("PMP_AUTH", "token")
        monkeypatch.setenv("PMP_TOKEN", pmp.credentials["token"])
        monkeypatch.setenv("PMP_RATE_LIMIT", "1000")
        assert run_example(monkeypatch, "cron_extract.py") == 0
    report = tmp_path / "e8.html"
    assert run_example(monkeypatch, "compliance_report.py", str(report)) == 0
    assert "Essential Eight" in report.read_text()
