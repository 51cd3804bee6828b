"""`pmp-intel db …`: works, and fails with one clear line instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmp_intel.cli import main
from pmp_intel.store.migrate import head_revision


def _single_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("pmp-intel: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_upgrade_then_current(fresh_database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", fresh_database_url, "db", "upgrade"]) == 0
    assert f"→ {head_revision()}" in capsys.readouterr().out
    assert main(["--database-url", fresh_database_url, "db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["--database-url", fresh_database_url, "db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_current_on_empty_database_exits_2(
    fresh_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", fresh_database_url, "db", "current"]) == 2
    assert "behind" in capsys.readouterr().out


def test_database_url_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "env" / "intel.db"
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", f"sqlite:///{target}")
    assert main(["db", "upgrade"]) == 0
    assert target.is_file()
    assert target.stat().st_mode & 0o777 == 0o600


def test_default_database_lives_under_home(capsys: pytest.CaptureFixture[str]) -> None:
    # conftest points HOME at a temporary folder
    assert main(["db", "upgrade"]) == 0
    default = Path("~/.maia/databases/intelligence/pmp_intelligence.db").expanduser()
    assert default.is_file()
    assert default.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid configuration: database_url"),
        ("nosuchdialect://x/y", "no database driver for 'nosuchdialect'"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/nothing", "cannot use database"),
    ],
)
def test_bad_database_gives_one_line(
    url: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", url, "db", "upgrade"]) == 1
    assert expected in _single_error_line(capsys.readouterr().err)


def test_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    assert main(["--database-url", f"sqlite:///{bogus}", "db", "upgrade"]) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "not a database" in line
    assert bogus.read_text().startswith("these are my notes")


def test_password_in_url_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://nobody:hunter2-secret@127.0.0.1:1/nothing"
    assert main(["--database-url", url, "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "hunter2-secret" not in err
    _single_error_line(err)


def test_invalid_setting_names_the_variable_not_the_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PMP_CLIENT_SECRET", "s3cr3t-client-value")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://evil.example.com/T000/B000/s3cr3t-hook")
    monkeypatch.setenv("PMP_RATE_LIMIT", "fast")
    assert main(["db", "current"]) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "PMP_RATE_LIMIT" in line
    assert "SLACK_WEBHOOK_URL" in line
    assert "s3cr3t" not in line


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "usage: pmp-intel" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["extract", "--max-pages", "abc"],
        ["extract", "--bogus"],
        ["compliance", "--format", "pdf"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_1_not_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 means "partial, run again" to cron (design.md §3): a typo is fatal."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 1
    assert "pmp-intel" in capsys.readouterr().err


def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tables but no alembic_version: not a pmp-intel database. Refused before anything
    changes (no migration, no WAL, no chmod), with one line saying what to do."""
    import hashlib
    import sqlite3

    path = tmp_path / "books.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    path.chmod(0o644)

    def state() -> tuple[str, int, list[str]]:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return digest, path.stat().st_mode & 0o777, sorted(p.name for p in tmp_path.iterdir())

    before = state()
    for action in (["db", "upgrade"], ["db", "current"]):
        assert main(["--database-url", f"sqlite:///{path}", *action]) == 1
        line = _single_error_line(capsys.readouterr().err)
        assert f"{path} is not a pmp-intel database" in line
        assert "(invoices)" in line
        assert "another program's database" in line
        assert "PMP_INTEL_DATABASE_URL" in line
    assert state() == before
