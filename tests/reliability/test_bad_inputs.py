"""Bad input (issue 9): malformed settings, a database that is not one, a read-only folder, a
full disk, a server that speaks only HTML, an endpoint with another envelope. Each ends in one
clear error line on stderr (no traceback), the exit code of design.md §3, and nothing
half-written: no snapshot is presented as complete, and no file is touched that should not be.

Waits go through a patched ``SystemClock.sleep`` (the CLI builds its own client). The
read-only folder and the full disk need a real process: a child runs the CLI without write
permission on the folder (when the tests run as root, the child also loses the capability to
override file permissions), or under a file-size limit (RLIMIT_FSIZE, so SQLite's writes
fail with EFBIG as on a full disk).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from odd_server_helpers import (
    EnvelopeRewriter,
    HtmlOnly,
    answering_port,
    serve,
    unknown_shape,
    version_2_envelope,
)
from sim_truth_helpers import sim_extraction
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel.api.clock import SystemClock
from pmp_intel.cli import main
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.models import ExtractionGap, Patch, Snapshot, Source, System
from pmp_intel.store.schema import ensure_schema
from pmp_intel.testing import SimulatedPMP, simulated_pmp

ERROR_PREFIX = "pmp-intel: error: "
#: prctl(2) option and the capabilities that let root ignore file permissions.
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait of the CLI's API client, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: waits.append(seconds))
    return waits


def error_line(stderr: str) -> str:
    """The one error line of a failed command; everything else on stderr is a JSON log line."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, stderr[-2000:]
    assert lines[-1] == errors[0]
    for line in lines[:-1]:
        json.loads(line)  # a log line, not a stray message
    return errors[0].removeprefix(ERROR_PREFIX)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``pmp-intel argv`` in this process; returns the exit code and stderr."""
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def extract_json(capsys: pytest.CaptureFixture[str], database_url: str) -> tuple[int, str]:
    """``pmp-intel extract`` with JSON logs on ``database_url``: exit code and stderr."""
    return cli(capsys, "--database-url", database_url, "extract", "--log-format", "json")


def set_environment(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    """Set every variable of ``values`` for the test."""
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def point_at(monkeypatch: pytest.MonkeyPatch, pmp: SimulatedPMP, **extra: str) -> str:
    """Environment of an OAuth extraction of ``pmp`` on a source of the test's own."""
    source = f"bad-input-{uuid.uuid4().hex[:8]}"
    creds = pmp.credentials
    values = {
        "PMP_BASE_URL": pmp.base_url,
        "PMP_ACCOUNTS_URL": pmp.accounts_url,
        "PMP_CLIENT_ID": creds["client_id"],
        "PMP_CLIENT_SECRET": creds["client_secret"],
        "PMP_REFRESH_TOKEN": creds["refresh_token"],
        "PMP_RATE_LIMIT": "1000",
        "PMP_INTEL_SOURCE": source,
        **extra,
    }
    set_environment(monkeypatch, values)
    return source


def snapshots_of(engine: Engine, source: str) -> list[Snapshot]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Snapshot).join(Source).where(Source.name == source).order_by(Snapshot.id)
            )
        )


def history_rows(engine: Engine, source: str) -> int:
    with Session(engine) as session:
        source_id = session.scalar(select(Source.id).where(Source.name == source))
        return sum(
            session.scalar(select(func.count()).select_from(m).where(m.source_id == source_id)) or 0
            for m in (System, Patch)
        )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- configuration ------------------------------------------------------------------------

BAD_SETTINGS = [
    pytest.param("PMP_CONCURRENCY", "abc", id="int"),
    pytest.param("PMP_MAX_ATTEMPTS", "2.5", id="int-given-a-fraction"),
    pytest.param("PMP_RATE_LIMIT", "fast", id="float"),
    pytest.param("PMP_RATE_LIMIT", "-4", id="negative-rate"),
    pytest.param("PMP_VERIFY_TLS", "maybe", id="bool"),
    pytest.param("PMP_BASE_URL", "ftp://pmp.example.com", id="url-scheme"),
    pytest.param("PMP_ACCOUNTS_URL", "accounts.zoho.com.au", id="url-without-scheme"),
    pytest.param("PMP_AUTH", "kerberos", id="unknown-auth"),
    pytest.param("PMP_AUTH_TYPE", "kerberos_authentication", id="unknown-auth-type"),
    pytest.param("PMP_INTEL_LOG_FORMAT", "xml", id="unknown-log-format"),
    pytest.param("PMP_INTEL_COVERAGE_TARGET", "1.5", id="coverage-above-100pct"),
    pytest.param("PMP_CA_BUNDLE", "/nonexistent/pmp-ca.pem", id="missing-ca-bundle"),
    pytest.param("PMP_INTEL_DATABASE_URL", "pmp-intelligence.db", id="database-path-not-url"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_SETTINGS)
def test_malformed_setting_is_one_line_and_exit_1(
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = tmp_path / "never-created.db"
    with simulated_pmp(systems=5, seed=1) as pmp:
        point_at(monkeypatch, pmp, **{variable: value})
        flags = (
            []
            if variable == "PMP_INTEL_DATABASE_URL"
            else ["--database-url", f"sqlite:///{target}"]
        )
        code, stderr = cli(capsys, *flags, "extract")
        requests_sent = len(pmp.request_log)
    line = error_line(stderr)
    assert code == 1
    assert line.startswith("invalid configuration: ")
    assert variable in line
    assert value not in line  # values are never echoed: some are secrets
    assert requests_sent == 0
    assert not target.exists()
    assert not (tmp_path / "pmp-intelligence.db").exists()


@pytest.mark.parametrize(
    ("file", "text", "named"),
    [
        pytest.param("pmp-intel.toml", "PMP_RATE_LIMIT = [\n", "pmp-intel.toml", id="toml-syntax"),
        pytest.param(
            "pmp-intel.toml", 'PMP_CONCURRENCY = "many"\n', "PMP_CONCURRENCY", id="toml-type"
        ),
        pytest.param(".env", "PMP_RATE_LIMIT=-1\n", "PMP_RATE_LIMIT", id="dotenv-value"),
    ],
)
def test_malformed_configuration_file_is_one_line_and_exit_1(
    file: str,
    text: str,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / file).write_text(text)  # conftest has chdir'ed into tmp_path
    target = tmp_path / "never-created.db"
    with simulated_pmp(systems=5, seed=1) as pmp:
        point_at(monkeypatch, pmp)
        monkeypatch.delenv("PMP_RATE_LIMIT")
        code, stderr = cli(capsys, "--database-url", f"sqlite:///{target}", "extract")
        requests_sent = len(pmp.request_log)
    line = error_line(stderr)
    assert code == 1
    assert line.startswith("invalid configuration: ")
    assert named in line
    assert requests_sent == 0
    assert not target.exists()


# --- the database -------------------------------------------------------------------------


def test_database_url_to_a_file_that_is_not_a_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("inventory notes, not a database\n" * 200)
    before = digest(notes)
    with simulated_pmp(systems=5, seed=1) as pmp:
        point_at(monkeypatch, pmp)
        code, stderr = cli(capsys, "--database-url", f"sqlite:///{notes}", "extract")
        requests_sent = len(pmp.request_log)
    line = error_line(stderr)
    assert code == 1
    assert "not a database" in line
    assert str(notes) in line
    assert digest(notes) == before
    assert requests_sent == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_postgresql_url_to_a_web_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "Db-Pa55-" + uuid.uuid4().hex[:8]
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with simulated_pmp(systems=5, seed=1) as pmp, answering_port(reply) as port:
        point_at(monkeypatch, pmp)
        url = f"postgresql+psycopg://pmp:{password}@127.0.0.1:{port}/pmp?sslmode=disable"
        code, stderr = cli(capsys, "--database-url", url, "extract")
        api_requests = [r for r in pmp.request_log if r.endpoint is not None]
    line = error_line(stderr)
    assert code == 1
    assert line.startswith("cannot use database postgresql+psycopg://pmp:***@127.0.0.1")
    assert password not in stderr
    assert api_requests == []


def run_cli_process(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    *,
    obey_permissions: bool = False,
    max_file_bytes: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m pmp_intel args`` in a child, optionally bound by file permissions even
    when running as root, or with a file-size limit (writes past it fail with EFBIG, like a
    full disk)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def restrict() -> None:  # runs in the child, before pmp-intel starts
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
        if obey_permissions and os.geteuid() == 0:
            for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
                if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")

    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "pmp_intel", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=restrict,
        check=False,
    )


def environment_for(pmp: SimulatedPMP, **extra: str) -> dict[str, str]:
    creds = pmp.credentials
    return {
        "PMP_BASE_URL": pmp.base_url,
        "PMP_ACCOUNTS_URL": pmp.accounts_url,
        "PMP_CLIENT_ID": creds["client_id"],
        "PMP_CLIENT_SECRET": creds["client_secret"],
        "PMP_REFRESH_TOKEN": creds["refresh_token"],
        "PMP_RATE_LIMIT": "1000",
        **extra,
    }


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder that becomes read-only when the test says so (writable again afterwards)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def test_read_only_folder_without_a_database(read_only_folder: Path) -> None:
    folder = read_only_folder
    folder.chmod(0o555)
    with simulated_pmp(systems=5, seed=1) as pmp:
        for url in (f"sqlite:///{folder}/pmp.db", f"sqlite:///{folder}/sub/pmp.db"):
            child = run_cli_process(
                ["--database-url", url, "extract"],
                environment_for(pmp),
                folder,
                obey_permissions=True,
            )
            line = error_line(child.stderr)
            assert child.returncode == 1
            assert line.startswith("cannot create the database file ")
            assert "ermission denied" in line
        api_requests = [r for r in pmp.request_log if r.endpoint is not None]
    assert list(folder.iterdir()) == []
    assert api_requests == []


def test_existing_database_in_a_read_only_folder(read_only_folder: Path) -> None:
    folder = read_only_folder
    database = folder / "pmp.db"
    engine = create_db_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    engine.dispose()
    before = digest(database)
    folder.chmod(0o555)
    with simulated_pmp(systems=5, seed=1) as pmp:
        child = run_cli_process(
            ["--database-url", f"sqlite:///{database}", "extract"],
            environment_for(pmp),
            folder,
            obey_permissions=True,
        )
        api_requests = [r for r in pmp.request_log if r.endpoint is not None]
    line = error_line(child.stderr)
    assert child.returncode == 1
    assert str(database) in line
    assert digest(database) == before
    assert sorted(p.name for p in folder.iterdir()) == ["pmp.db"]
    assert api_requests == []


def test_full_disk_fails_in_one_line_then_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "full.db"
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    ensure_schema(engine)
    engine.dispose()
    limit = database.stat().st_size + 64 * 1024  # the schema fits; an extraction does not
    with simulated_pmp(systems=20, seed=1) as pmp:
        env = environment_for(pmp, PMP_INTEL_SOURCE="full-disk")
        child = run_cli_process(
            ["--database-url", url, "extract"], env, tmp_path, max_file_bytes=limit
        )
        line = error_line(child.stderr)
        assert child.returncode == 1
        assert line.startswith("database error: ")
        assert any(word in line for word in ("disk", "full", "I/O"))
        with sqlite3.connect(database) as check:  # the file survived the failed writes
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        engine = create_db_engine(url)
        try:
            assert [s.status for s in snapshots_of(engine, "full-disk")] in (
                [],
                ["in_progress"],
                ["failed"],
            )
            assert history_rows(engine, "full-disk") == 0
            # room again: the next run carries on and completes
            point_at(monkeypatch, pmp, PMP_INTEL_SOURCE="full-disk")
            code, _ = cli(capsys, "--database-url", url, "extract", "--no-analysis")
            assert code == 0
            settings = sim_extraction.settings_for(pmp, url, source_name="full-disk")
            source = sim_extraction.source_id(engine, settings.source_name)
            assert sim_extraction.content(engine, source) == sim_extraction.truth(pmp)
            assert [s.status for s in snapshots_of(engine, "full-disk")][-1] == "complete"
        finally:
            engine.dispose()


# --- servers that are not quite PMP --------------------------------------------------------


@pytest.mark.usefixtures("no_waiting")
def test_server_speaking_only_html_with_a_static_token(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    database_url: str,
) -> None:
    html = HtmlOnly()
    source = f"html-{uuid.uuid4().hex[:8]}"
    with serve(html) as url:
        set_environment(
            monkeypatch,
            {
                "PMP_BASE_URL": url,
                "PMP_AUTH": "token",
                "PMP_TOKEN": "static-token-" + uuid.uuid4().hex[:8],
                "PMP_RATE_LIMIT": "1000",
                "PMP_INTEL_SOURCE": source,
            },
        )
        code, stderr = extract_json(capsys, database_url)
    line = error_line(stderr)
    assert code == 1
    assert html.paths  # it really was asked
    assert "unknown%" not in line
    assert "html" in line.lower()  # names what the server did
    assert [s.status for s in snapshots_of(engine, source)] == ["failed"]
    assert all(s.merged_at is None for s in snapshots_of(engine, source))
    assert history_rows(engine, source) == 0


@pytest.mark.usefixtures("no_waiting")
def test_server_speaking_only_html_to_the_oauth_grant(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    database_url: str,
) -> None:
    html = HtmlOnly()
    source = f"html-{uuid.uuid4().hex[:8]}"
    secret = "client-secret-" + uuid.uuid4().hex[:8]
    with serve(html) as url:
        set_environment(
            monkeypatch,
            {
                "PMP_BASE_URL": url,
                "PMP_ACCOUNTS_URL": url,
                "PMP_CLIENT_ID": "1000.CLIENT",
                "PMP_CLIENT_SECRET": secret,
                "PMP_REFRESH_TOKEN": "1000.refresh." + uuid.uuid4().hex,
                "PMP_RATE_LIMIT": "1000",
                "PMP_INTEL_SOURCE": source,
            },
        )
        code, stderr = extract_json(capsys, database_url)
    line = error_line(stderr)
    assert code == 1
    assert "token" in line
    assert "html" in line.lower()
    assert secret not in stderr
    assert all(p.endswith("/oauth/v2/token") for p in html.paths)  # no page was asked for
    assert [s.status for s in snapshots_of(engine, source)] == ["failed"]
    assert history_rows(engine, source) == 0


@pytest.mark.usefixtures("no_waiting")
def test_one_endpoint_answering_another_envelope_version(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    database_url: str,
) -> None:
    with simulated_pmp(systems=10, seed=1) as pmp:
        rewriter = EnvelopeRewriter(pmp, version_2_envelope, ["/api/1.4/patch/allpatches"])
        with serve(rewriter) as url:
            source = point_at(monkeypatch, pmp, PMP_BASE_URL=url)
            code, stderr = extract_json(capsys, database_url)
        truth = sim_extraction.truth(pmp)
    assert code == 2  # gaps remain, the rest was read: run again
    assert "Traceback" not in stderr
    assert rewriter.rewritten
    snaps = snapshots_of(engine, source)
    assert [(s.status, s.merged_at is not None) for s in snaps] == [("partial", True)]
    with Session(engine) as session:
        gaps = session.scalars(
            select(ExtractionGap).where(ExtractionGap.snapshot_id == snaps[0].id)
        ).all()
    assert [(g.endpoint, g.page, g.error_type, g.http_status) for g in gaps] == [
        ("allpatches", 1, "unexpected_shape", 200)
    ]
    assert gaps[0].response_sample
    assert '"2.0"' in gaps[0].response_sample
    assert len(gaps[0].response_sample.encode()) <= 1024
    held = sim_extraction.content(engine, snaps[0].source_id)
    assert held["systems"] == truth["systems"]
    assert held["states"] == truth["states"]
    assert held["patches"] <= truth["patches"]  # other endpoints name patches too


@pytest.mark.usefixtures("no_waiting")
def test_every_endpoint_answering_an_unknown_shape(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    database_url: str,
) -> None:
    with simulated_pmp(systems=10, seed=1) as pmp:
        rewriter = EnvelopeRewriter(pmp, unknown_shape)
        with serve(rewriter) as url:
            source = point_at(monkeypatch, pmp, PMP_BASE_URL=url)
            code, stderr = extract_json(capsys, database_url)
    line = error_line(stderr)
    assert code == 1
    assert rewriter.rewritten
    assert "unknown%" not in line
    assert any(word in line for word in ("shape", "envelope"))
    assert [s.status for s in snapshots_of(engine, source)] == ["failed"]
    assert history_rows(engine, source) == 0
