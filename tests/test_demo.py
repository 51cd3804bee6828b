"""`pmp-intel demo` runs the whole pipeline on a small estate and writes a local report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmp_intel.cli import main


def test_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workdir = tmp_path / "demo"
    assert main(["demo", "--systems", "40", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "snapshot 1: complete" in out
    assert "snapshot 2: complete" in out
    assert "Essential Eight" in out
    assert "What changed from snapshot 1 to 2" in out
    html = (workdir / "compliance.html").read_text()
    assert "<html" in html.lower()
    # one self-contained file: nothing fetched from elsewhere
    assert not re.search(r"""(src|href)=["']https?://""", html)
    database = workdir / "pmp_intelligence.db"
    assert database.stat().st_mode & 0o777 == 0o600
