"""``pmp-intel db upgrade`` imports the configured legacy folder wherever it is configured
(environment, ``.env``, ``pmp-intel.toml``), with the legacy time zone, and prints the
report as ``migrate-legacy`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
from builder import LegacyTruth
from legacy_helpers import ZONE, dump
from sqlalchemy import Engine, select

from pmp_intel.cli import main
from pmp_intel.store import migrate
from pmp_intel.store.models import Snapshot


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _legacy_snapshots(engine: Engine) -> list[Snapshot]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(Snapshot).where(Snapshot.trigger == "legacy-import").order_by(Snapshot.id)
            ).all()
        )


CONFIGURATIONS = {
    ".env": lambda folder: Path(".env").write_text(f"PMP_INTEL_LEGACY_DIR={folder}\n"),
    "pmp-intel.toml": lambda folder: Path("pmp-intel.toml").write_text(
        f'legacy_dir = "{folder}"\n'
    ),
}


@pytest.mark.parametrize("where", sorted(CONFIGURATIONS))
def test_db_upgrade_imports_the_configured_legacy_folder(
    where: str,
    target: Engine,
    legacy_a: LegacyTruth,
    capsys: pytest.CaptureFixture[str],
) -> None:
    CONFIGURATIONS[where](legacy_a.directory)  # the tests run in a temporary folder
    argv = ["--database-url", _url(target), "db", "upgrade", "--legacy-timezone", ZONE]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "legacy files" in out  # the files table
    assert "pmp_systemreports.db" in out
    assert "legacy rows into source 'legacy'" in out  # the summary line
    assert f"→ {migrate.head_revision()}" in out
    snapshots = _legacy_snapshots(target)
    assert len(snapshots) == legacy_a.runs
    report = snapshots[-1].details["legacy_import"]["report"]
    assert report["timezone"] == ZONE
    assert report["balanced"]


def test_db_upgrade_refuses_an_unknown_legacy_time_zone(
    target: Engine,
    legacy_a: LegacyTruth,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PMP_INTEL_LEGACY_DIR", str(legacy_a.directory))
    argv = ["--database-url", _url(target), "db", "upgrade", "--legacy-timezone", "Mars/Base"]
    assert main(argv) == 1
    assert "unknown time zone 'Mars/Base'" in capsys.readouterr().err
    assert migrate.current_revision(target) is None


def test_db_upgrade_says_when_the_legacy_folder_is_not_imported(
    target: Engine,
    legacy_a: LegacyTruth,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrate.upgrade(target)
    before = dump(target)
    monkeypatch.setenv("PMP_INTEL_LEGACY_DIR", str(legacy_a.directory))
    assert main(["--database-url", _url(target), "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "not imported: the database is past revision 0002" in out
    assert "migrate-legacy" in out
    assert dump(target) == before
