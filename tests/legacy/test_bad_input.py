"""Bad legacy input fails with one line naming the file (and table); the target is unchanged."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import LegacyTruth, leave_hot_journal
from legacy_helpers import ZONE, checksums, dump, upgrade_with_legacy
from sqlalchemy import Engine

from pmp_intel.cli import main
from pmp_intel.legacy import importer
from pmp_intel.legacy.errors import LegacyFileError
from pmp_intel.store import migrate


@pytest.fixture
def copy(legacy_a: LegacyTruth, tmp_path: Path) -> Path:
    folder = tmp_path / "legacy"
    shutil.copytree(legacy_a.directory, folder)
    return folder


def _corrupt(folder: Path) -> str:
    path = folder / "pmp_config.db"
    path.write_bytes(b"this is not a database at all" * 200)
    return "pmp_config.db: .*corrupt or not a SQLite database"


def _foreign(folder: Path) -> str:
    path = folder / "pmp_systemreports.db"
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    return r"pmp_systemreports.db: not a Maia PMP database \(no known table among: invoices\)"


def _unexpected_columns(folder: Path) -> str:
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.execute("ALTER TABLE scan_details ADD COLUMN surprise TEXT")
    return "pmp_config.db: table scan_details has unexpected columns"


def _hot_journal(folder: Path) -> str:
    leave_hot_journal(folder / "pmp_systemreports.db")
    return (
        r"pmp_systemreports\.db: .*the file has an unfinished transaction: a writer was killed "
        r".*pmp_systemreports\.db-journal.*open the copy once with sqlite3"
    )


def _missing(folder: Path) -> str:
    for path in folder.iterdir():
        path.unlink()
    return "none of the legacy files"


BREAKERS: dict[str, Callable[[Path], str]] = {
    "corrupt": _corrupt,
    "foreign": _foreign,
    "unexpected-columns": _unexpected_columns,
    "hot-journal": _hot_journal,
    "missing": _missing,
}


@pytest.mark.parametrize("breaker", sorted(BREAKERS))
def test_cli_names_the_file_and_leaves_the_target_unchanged(
    breaker: str, copy: Path, target: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate.upgrade(target)
    before = dump(target)
    pattern = BREAKERS[breaker](copy)
    url = target.url.render_as_string(hide_password=False)
    code = main(["--database-url", url, "migrate-legacy", "--from", str(copy), "--no-archive"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("pmp-intel: error: ")
    assert err.count("\n") == 1
    assert __import__("re").search(pattern, err), err
    assert dump(target) == before


@pytest.mark.parametrize("breaker", ["unexpected-columns", "foreign"])
def test_alembic_path_rolls_back_and_stays_below_0002(
    breaker: str, copy: Path, target: Engine
) -> None:
    migrate.upgrade(target, "0001")
    before = dump(target)
    pattern = BREAKERS[breaker](copy)
    with pytest.raises(LegacyFileError, match=pattern):
        upgrade_with_legacy(target, copy)
    assert migrate.current_revision(target) == "0001"
    assert dump(target) == before


def test_locked_file(copy: Path, target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    migrate.upgrade(target)
    before = dump(target)
    sums = checksums(copy)
    holder = sqlite3.connect(copy / "pmp_systemreports.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        url = target.url.render_as_string(hide_password=False)
        code = main(["--database-url", url, "migrate-legacy", "--from", str(copy), "--no-archive"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert code == 1
    assert "pmp_systemreports.db" in err
    assert "locked" in err
    assert dump(target) == before
    assert checksums(copy) == sums


def test_a_failure_after_rows_were_written_rolls_everything_back(
    copy: Path, target: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots, summaries and the bulk history rows are written before the small
    entities; a failure there must leave the target exactly as it was (one transaction)."""
    migrate.upgrade(target)
    before = dump(target)
    written: list[int] = []

    def explode(self: importer.LegacyImporter) -> None:
        written.append(sum(self.report.written.values()))
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer.LegacyImporter, "_write_small_entities", explode)
    url = target.url.render_as_string(hide_password=False)
    with pytest.raises(RuntimeError, match="disk full"):
        main(
            [
                "--database-url",
                url,
                "migrate-legacy",
                "--from",
                str(copy),
                "--no-archive",
                "--legacy-timezone",
                ZONE,
            ]
        )
    assert written
    assert written[0] > 100
    assert dump(target) == before


def test_unknown_time_zone_is_one_line(
    copy: Path, target: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = target.url.render_as_string(hide_password=False)
    code = main(
        [
            "--database-url",
            url,
            "migrate-legacy",
            "--from",
            str(copy),
            "--legacy-timezone",
            "Mars/Olympus",
        ]
    )
    assert code == 1
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err


def test_a_killed_import_leaves_no_scratch_folder_behind_for_long(
    legacy_a: LegacyTruth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGKILLed import cannot delete its scratch databases; the next import deletes
    those of processes that are gone, and keeps those of live ones."""
    import subprocess
    import sys
    import tempfile

    from pmp_intel.legacy.importer import ImportOptions, import_legacy
    from pmp_intel.legacy.workspace import PREFIX

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f"{PREFIX}{gone.stdout.strip()}-abc"
    (dead / "work.db").parent.mkdir()
    (dead / "work.db").write_bytes(b"x" * 1000)
    live = tmp_path / f"{PREFIX}1-abc"  # pid 1 is always alive
    live.mkdir()
    report = import_legacy(None, legacy_a.directory, ImportOptions(timezone=ZONE, dry_run=True))
    assert report.balanced
    assert not dead.exists()
    assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]  # its own are gone too


def test_hot_journal_is_explained_and_left_alone(copy: Path) -> None:
    """A writer killed mid-transaction leaves a hot journal; SQLite would roll it back on
    the next open, which means writing the legacy file: the import says what happened and
    how to resolve it, on a copy, and touches neither file."""
    journal = leave_hot_journal(copy / "pmp_systemreports.db")
    before = checksums(copy)
    with pytest.raises(LegacyFileError) as raised:
        importer.import_legacy(None, copy, importer.ImportOptions(dry_run=True))
    message = str(raised.value)
    assert "\n" not in message
    assert str(copy / "pmp_systemreports.db") in message
    assert journal.name in message
    assert "killed" in message
    assert "sqlite3" in message
    assert "copy" in message
    assert checksums(copy) == before  # the journal is still there, nothing rolled back
    # resolved as the message says: on a copy, opened once with sqlite3
    fixed = copy.parent / "fixed"
    shutil.copytree(copy, fixed)
    sqlite3.connect(fixed / "pmp_systemreports.db").execute("PRAGMA integrity_check").fetchall()
    report = importer.import_legacy(None, fixed, importer.ImportOptions(dry_run=True))
    assert report.balanced
