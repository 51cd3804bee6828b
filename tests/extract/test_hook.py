"""POST_EXTRACTION_HOOK runs with the snapshot in its environment; failure is not fatal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pmp_intel.extract.hook import run_post_extraction_hook
from pmp_intel.logs import configure_logging
from pmp_intel.settings import LogFormat


def test_hook_sees_the_snapshot_but_not_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMP_CLIENT_SECRET", "do-not-pass-me")
    out = tmp_path / "env.txt"
    code = run_post_extraction_hook(
        'echo "$PMP_INTEL_SNAPSHOT_ID $PMP_INTEL_SNAPSHOT_STATUS x${PMP_CLIENT_SECRET}x"'
        f" > {out}",
        snapshot_id=42,
        status="complete",
        database_url="sqlite:///x.db",
    )
    assert code == 0
    assert out.read_text().split() == ["42", "complete", "xx"]


def test_failing_hook_is_logged_not_raised() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    code = run_post_extraction_hook(
        "echo broken >&2; exit 3", snapshot_id=1, status="partial", database_url="sqlite://"
    )
    assert code == 3
    event = json.loads(stream.getvalue().splitlines()[-1])
    assert event["event_type"] == "post_extraction_hook_finished"
    assert event["exit_code"] == 3
    assert "broken" in event["stderr_tail"]


def test_no_hook_configured() -> None:
    assert (
        run_post_extraction_hook(None, snapshot_id=1, status="complete", database_url="sqlite://")
        is None
    )
