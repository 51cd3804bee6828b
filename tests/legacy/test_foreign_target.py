"""The default database path is where the old Maia migrator wrote its own
``pmp_intelligence.db`` (maia-legacy.md §1.0, §3.2). pmp-intel refuses a database that holds
tables but no ``alembic_version`` with one line, and leaves the file byte for byte as it was:
no WAL, no chmod, no migration."""

from __future__ import annotations

import hashlib
import shutil
import stat
from pathlib import Path

import pytest
from builder import LegacyTruth, old_migrator_database
from legacy_helpers import ZONE

from pmp_intel.cli import main

DEFAULT = Path("~/.maia/databases/intelligence/pmp_intelligence.db")


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mode of every file in ``folder``."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.iterdir())
    }


@pytest.fixture
def maia_home(legacy_a: LegacyTruth) -> Path:
    """~/.maia/databases/intelligence as the old tools left it: the legacy files and the
    old migrator's pmp_intelligence.db (here world-readable, as after a restore)."""
    folder = DEFAULT.expanduser().parent
    shutil.copytree(legacy_a.directory, folder)
    old_migrator_database(folder / "pmp_intelligence.db", legacy_a).chmod(0o644)
    return folder


COMMANDS = {
    "db upgrade": ["db", "upgrade"],
    "db current": ["db", "current"],
    "db downgrade": ["db", "downgrade", "base"],
    "migrate-legacy": ["migrate-legacy", "--from", "{folder}", "--no-archive"],
    "migrate-legacy --dry-run": ["migrate-legacy", "--from", "{folder}", "--dry-run"],
    "extract": ["extract"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_old_migrators_database_is_refused_and_left_untouched(
    command: str,
    maia_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PMP_BASE_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("PMP_CLIENT_ID", "id")
    monkeypatch.setenv("PMP_CLIENT_SECRET", "secret")
    monkeypatch.setenv("PMP_REFRESH_TOKEN", "token")
    before = _state(maia_home)
    argv = [part.format(folder=maia_home) for part in COMMANDS[command]]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("pmp-intel: error: ")
    assert f"{maia_home / 'pmp_intelligence.db'} is not a pmp-intel database" in line
    assert "no alembic_version" in line
    assert "PMP_INTEL_DATABASE_URL" in line
    assert f"migrate-legacy --from {maia_home}" in line
    assert _state(maia_home) == before  # byte-identical, same mode, no -wal/-shm beside it


def test_a_legacy_file_given_as_the_database_is_refused(
    legacy_a: LegacyTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "legacy"
    shutil.copytree(legacy_a.directory, folder)
    before = _state(folder)
    url = f"sqlite:///{folder / 'pmp_config.db'}"
    assert main(["--database-url", url, "db", "upgrade"]) == 1
    line = capsys.readouterr().err.strip()
    assert "one of the old Maia tools' legacy files" in line
    assert f"migrate-legacy --from {folder}" in line
    assert _state(folder) == before


def test_once_the_old_file_is_moved_away_the_import_runs(
    maia_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the message says to do: move the old file (or point the URL elsewhere)."""
    (maia_home / "pmp_intelligence.db").rename(maia_home / "pmp_intelligence.maia.db")
    argv = ["migrate-legacy", "--from", str(maia_home), "--no-archive", "--json"]
    assert main([*argv, "--legacy-timezone", ZONE]) == 0
    out = capsys.readouterr().out
    assert '"outcome": "imported"' in out
    assert '"pmp_intelligence.maia.db"' in out  # listed as ignored, never read
    mode = stat.S_IMODE((maia_home / "pmp_intelligence.db").stat().st_mode)
    assert mode == 0o600


def test_an_empty_file_at_the_default_path_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    path = DEFAULT.expanduser()
    path.parent.mkdir(parents=True)
    path.touch(mode=0o644)
    assert main(["db", "upgrade"]) == 0
    assert "upgraded empty" in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_stores_list_of_maia_names_matches_the_legacy_shapes() -> None:
    """The store may not import the legacy package (docs/architecture.md), so it keeps its
    own list of the names that mark a database as the old tools'."""
    from pmp_intel.legacy.shapes import KNOWN_FILES, SHAPES_BY_TABLE
    from pmp_intel.store.migrate import MAIA_FILES, MAIA_TABLES

    assert set(SHAPES_BY_TABLE) == MAIA_TABLES
    assert KNOWN_FILES == MAIA_FILES
