"""The legacy import: what comes through, the accounting, history, reruns and downgrade."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builder import LegacySizes, LegacyTruth, build_legacy_dir
from legacy_helpers import ZONE, checksums, dump, scalar, upgrade_with_legacy
from sqlalchemy import Engine, select, text

from pmp_intel.cli import main
from pmp_intel.legacy.errors import LegacyConflictError
from pmp_intel.legacy.report import ImportReport
from pmp_intel.store import migrate
from pmp_intel.store.models import (
    ComplianceCheck,
    Patch,
    ServerSummary,
    Snapshot,
    Source,
    System,
    SystemPatchState,
)


def _current(engine: Engine, model: type) -> list[object]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(model).where(model.valid_to_snapshot_id.is_(None))).all()
        )


# ---------------------------------------------------------------------------- content


def test_names_organisations_os_and_ip_come_through(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth
) -> None:
    engine, _ = imported
    systems = {row.resource_id: row for row in _current(engine, System)}
    assert set(systems) == set(legacy_a.systems)  # merged across the three files by resource_id
    for resource_id, truth in legacy_a.systems.items():
        row = systems[resource_id]
        assert row.resource_name == truth.name, resource_id
        assert row.branch_office_name == truth.organisation
        assert row.os_name == truth.os_name
        assert row.ip_address == truth.ip_address
        assert row.branch_office_id == truth.branch_office_id
    assert not any(str(r.resource_name).startswith("System-") for r in systems.values())
    # health came through where some source had it; '--' became NULL, never a fake 0
    known = [r for r in systems.values() if r.resource_health_status is not None]
    assert len(known) > len(systems) * 0.9
    assert all(r.resource_health_status == legacy_a.systems[r.resource_id].health for r in known)
    # agent data (volatile) and the legacy 0/1 live status mapped onto PMP's 2/1
    assert {r.computer_live_status for r in systems.values()} <= {1, 2, None}
    assert sum(r.agent_last_contact_time is not None for r in systems.values()) == len(systems)
    with engine.connect() as connection:
        offices = connection.execute(text("SELECT count(*) FROM branch_offices")).scalar()
    assert offices == len({s.branch_office_id for s in legacy_a.systems.values()})


def test_patches_keyed_by_real_patch_id_with_severity_vendor_release(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth
) -> None:
    engine, _ = imported
    patches = {row.patch_id: row for row in _current(engine, Patch)}
    assert set(patches) == set(legacy_a.patches)
    assert not set(patches) & set(range(10)), "update_id (0-9) used as a patch key"
    for patch_id, truth in legacy_a.patches.items():
        row = patches[patch_id]
        assert row.severity == truth.severity, patch_id
        assert row.vendor_name == truth.vendor
        assert row.bulletin_id == truth.bulletin_id
        assert row.update_id == truth.update_id
        if row.patch_released_time is not None:  # supportedpatches records carry none
            assert row.patch_released_time == datetime.fromtimestamp(
                truth.released_ms / 1000, tz=UTC
            )
    assert sum(p.severity is None for p in patches.values()) == 0
    released = sum(p.patch_released_time is not None for p in patches.values())
    assert released >= LegacySizes().distinct_all_patches


def test_reports_become_states_with_duplicates_collapsed_to_newest(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth
) -> None:
    engine, report = imported
    states = {(r.resource_id, r.patch_id): r for r in _current(engine, SystemPatchState)}
    assert set(states) == set(legacy_a.states)
    wrong = [k for k, (_, status) in legacy_a.states.items() if states[k].install_status != status]
    assert wrong == []
    reports = next(t for t in report.tables if t.table == "system_reports")
    assert reports.merged > 0, "the builder's re-run duplicates must be collapsed"
    failed = [r for r in states.values() if r.install_status == 206 and r.install_error_code]
    assert failed
    assert all(r.install_error_code == 18 for r in failed)
    assert all(r.deploy_remarks != "--" for r in states.values())


def test_every_legacy_row_is_accounted_for(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth
) -> None:
    _, report = imported
    assert report.balanced
    by_table = {(t.file, t.table): t for t in report.tables}
    assert set(by_table) == set(legacy_a.rows) | {
        ("pmp_complete_intelligence.db", t)
        for f, t in legacy_a.rows
        if f == "pmp_config.db"
        if not t.startswith("dcapi")
    }
    for key, rows in legacy_a.rows.items():
        entry = by_table[key]
        assert entry.read == rows, key
        assert entry.read == entry.imported + entry.merged + entry.skipped_total, key
    all_patches = by_table[("pmp_config.db", "all_patches")]
    reason = "no patch_id in raw_data (the patch_id column holds update_id)"
    assert all_patches.skipped[reason] == legacy_a.unkeyed_rows > 0
    reports = by_table[("pmp_systemreports.db", "system_reports")]
    assert reports.skipped["no install status (patch_status / deployment fields)"] > 0
    schema = by_table[("pmp_resilient.db", "schema_version")]
    assert schema.skipped_total == schema.read == 1
    totals = report.totals()
    assert totals["read"] == sum(legacy_a.rows.values())
    document = json.loads(report.to_json())
    assert document["balanced"] is True
    assert document["totals"] == totals


def test_empty_databases_are_recognised_and_reported(
    imported: tuple[Engine, ImportReport],
) -> None:
    _, report = imported
    status = {f["file"]: f["status"] for f in report.files}
    assert status["pmp_patch_systems.db"].startswith("empty (a database the old plans")
    assert status["pmp_complete_intelligence.db"].startswith("empty (a database the old plans")
    assert status["pmp_config.db"] == "read"


def test_each_run_is_a_snapshot_at_its_original_time_with_its_summary(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth
) -> None:
    engine, report = imported
    with engine.connect() as connection:
        snaps = connection.execute(select(Snapshot).order_by(Snapshot.id)).all()
        summaries = connection.execute(select(ServerSummary)).all()
    assert len(snaps) == legacy_a.runs == len(report.snapshot_ids)
    assert {s.trigger for s in snaps} == {"legacy-import"}
    times = [s.started_at for s in snaps]
    assert times == sorted(times), "snapshot ids must grow with time"
    # family A run 2 started at 2025-11-27 20:00 UTC, written as Brisbane local text
    family_a = [s for s in snaps if s.details["legacy"]["family"] == "A"]
    assert [s.started_at for s in family_a][1] == datetime(2025, 11, 27, 20, 0, tzinfo=UTC)
    assert family_a[0].status == "failed"  # the run left 'running'
    assert family_a[-1].status == "partial"  # completed_with_errors
    # one summary per family-A run, with the server's figures (trend kept)
    assert len(summaries) == 3
    by_snapshot = {s.snapshot_id: s for s in summaries}
    newest_a = by_snapshot[family_a[-1].id]
    assert newest_a.total_systems == legacy_a.newest_summary_total_systems
    assert newest_a.missing_critical == 137
    assert newest_a.apd_tasks == 72
    assert newest_a.last_db_update_status == "Success"
    # detail state lands in the newest imported snapshot
    newest = snaps[-1].id
    with engine.connect() as connection:
        starts = connection.execute(
            text("SELECT DISTINCT valid_from_snapshot_id FROM system_patch_states")
        ).all()
    assert starts == [(newest,)]
    assert snaps[-1].details["legacy_import"]["checksums"]


def test_checkpoints_and_gaps_are_carried_over(imported: tuple[Engine, ImportReport]) -> None:
    engine, _ = imported
    q = scalar(engine)
    assert q("SELECT count(*) FROM extraction_checkpoints WHERE endpoint = 'scandetails'") == 3
    assert q("SELECT count(*) FROM extraction_checkpoints WHERE endpoint = 'dcapi_systemreport'")
    assert q("SELECT count(*) FROM extraction_gaps WHERE status = 'abandoned'") == 18
    assert q("SELECT max(coverage_pct) FROM snapshots") == pytest.approx(99.1)


def test_policies_views_and_settings_are_carried_over(
    imported: tuple[Engine, ImportReport],
) -> None:
    engine, _ = imported
    q = scalar(engine)
    assert q("SELECT count(*) FROM deployment_policies") == LegacySizes().policies
    assert q("SELECT count(*) FROM view_configurations") == LegacySizes().view_configs
    assert q("SELECT patch_approval FROM approval_settings") == "manual"
    # the newest of three runs said True (runs 0 and 2 say True, run 1 False)
    assert q("SELECT consider_only_approved_patches FROM health_policies") in (True, 1)
    assert q("SELECT count(*) FROM som_computers") == LegacySizes().systems // 3


def test_snapshot_family_config(target: Engine, legacy_b: LegacyTruth) -> None:
    report = upgrade_with_legacy(target, legacy_b.directory)
    assert report.balanced
    q = scalar(target)
    # metric tables → one server summary per snapshot-family snapshot
    assert q("SELECT count(*) FROM server_summaries") == 3
    assert q("SELECT min(apd_tasks) FROM server_summaries") == 68
    assert q("SELECT max(missing_critical) FROM server_summaries") == 150
    # the old checker's rules, de-duplicated per snapshot, under their own profile
    with target.connect() as connection:
        checks = connection.execute(select(ComplianceCheck)).all()
    assert len(checks) == 6
    assert {c.profile for c in checks} == {"legacy-maia"}
    assert {c.outcome for c in checks} == {"effective", "ineffective"}
    by_table = {(t.file, t.table): t for t in report.tables}
    assert by_table[("pmp_config.db", "compliance_checks")].merged == 3
    # CVE links, APD-like deployment configs, stray non-numeric ids
    assert q("SELECT count(*) FROM patch_vulnerabilities") == 2 * len(
        [i for i in range(LegacySizes().supported_patches) if i % 4 == 0]
    )
    assert q("SELECT count(*) FROM deployment_tasks") == 2
    patches = by_table[("pmp_config.db", "patches")]
    assert patches.skipped["pmp_patch_id is not a numeric PMP patch id"] == 1
    states = {(r.resource_id, r.patch_id): r for r in _current(target, SystemPatchState)}
    assert {k: s.install_status for k, s in states.items()} == {
        k: v for k, (_, v) in legacy_b.states.items()
    }
    systems = {r.resource_id: r for r in _current(target, System)}
    assert all(systems[k].resource_name == t.name for k, t in legacy_b.systems.items())


def test_any_subset_of_files(target: Engine, tmp_path: Path) -> None:
    truth = build_legacy_dir(
        tmp_path / "only_reports", LegacySizes(), config_family=None, resilient=False, zone=ZONE
    )
    report = upgrade_with_legacy(target, truth.directory)
    assert report.balanced
    assert [f["file"] for f in report.files] == ["pmp_systemreports.db"]
    q = scalar(target)
    assert q("SELECT count(*) FROM systems") == len(truth.systems)
    assert q("SELECT count(*) FROM snapshots") == 2


def test_a_second_import_of_the_same_files_is_a_no_op(
    imported: tuple[Engine, ImportReport], legacy_a: LegacyTruth, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, _ = imported
    before = dump(engine)
    url = engine.url.render_as_string(hide_password=False)
    code = main(
        [
            "--database-url",
            url,
            "migrate-legacy",
            "--from",
            str(legacy_a.directory),
            "--legacy-timezone",
            ZONE,
            "--no-archive",
        ]
    )
    assert code == 0
    assert "already imported" in capsys.readouterr().out
    assert dump(engine) == before


def test_other_files_into_the_same_source_are_refused(
    imported: tuple[Engine, ImportReport], legacy_b: LegacyTruth, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, _ = imported
    before = dump(engine)
    url = engine.url.render_as_string(hide_password=False)
    code = main(
        ["--database-url", url, "migrate-legacy", "--from", str(legacy_b.directory), "--no-archive"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "already holds a legacy import" in err
    assert dump(engine) == before


def test_a_source_with_extracted_snapshots_is_refused(
    target: Engine, legacy_a: LegacyTruth
) -> None:
    migrate.upgrade(target)
    with target.begin() as connection:
        source_id = connection.execute(
            Source.__table__.insert().values(name="legacy", created_at=datetime.now(UTC))
        ).inserted_primary_key[0]
        connection.execute(
            Snapshot.__table__.insert().values(
                source_id=source_id,
                status="complete",
                trigger="cron",
                started_at=datetime.now(UTC),
                records_extracted=0,
                requests_made=0,
            )
        )
    from pmp_intel.legacy.importer import ImportOptions, import_legacy

    with target.begin() as connection, pytest.raises(LegacyConflictError, match="own"):
        import_legacy(connection, legacy_a.directory, ImportOptions(timezone=ZONE))


def test_downgrade_removes_exactly_what_the_import_added(
    target: Engine, legacy_a: LegacyTruth
) -> None:
    migrate.upgrade(target, "0001")
    with target.begin() as connection:  # an estate that was there before
        source_id = connection.execute(
            Source.__table__.insert().values(name="prod", created_at=datetime.now(UTC))
        ).inserted_primary_key[0]
        snapshot_id = connection.execute(
            Snapshot.__table__.insert().values(
                source_id=source_id,
                status="complete",
                trigger="cron",
                started_at=datetime.now(UTC),
                records_extracted=0,
                requests_made=0,
            )
        ).inserted_primary_key[0]
        connection.execute(
            System.__table__.insert().values(
                source_id=source_id,
                valid_from_snapshot_id=snapshot_id,
                resource_id=1,
                resource_name="prod-1",
            )
        )
    before = dump(target)
    upgrade_with_legacy(target, legacy_a.directory)
    assert scalar(target)("SELECT count(*) FROM systems") == len(legacy_a.systems) + 1
    migrate.downgrade(target, "0001")
    assert dump(target) == before


def test_nothing_pointed_at_does_nothing(target: Engine) -> None:
    migrate.upgrade(target)
    assert migrate.current_revision(target) == migrate.head_revision()
    q = scalar(target)
    assert q("SELECT count(*) FROM sources") == 0
    assert q("SELECT count(*) FROM snapshots") == 0


def test_environment_variable_points_the_migration(
    target: Engine, legacy_a: LegacyTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMP_INTEL_LEGACY_DIR", str(legacy_a.directory))
    report = upgrade_with_legacy(target, None)
    assert report.outcome == "imported"
    assert scalar(target)("SELECT count(*) FROM systems") == len(legacy_a.systems)


def test_originals_are_unchanged_and_archived_with_a_manifest(
    target: Engine, legacy_a: LegacyTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = checksums(legacy_a.directory)
    url = target.url.render_as_string(hide_password=False)
    archive = tmp_path / "archive"
    code = main(
        [
            "--database-url",
            url,
            "migrate-legacy",
            "--from",
            str(legacy_a.directory),
            "--legacy-timezone",
            ZONE,
            "--archive",
            str(archive),
            "--report",
            str(tmp_path / "report.json"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert checksums(legacy_a.directory) == before
    assert not list(legacy_a.directory.glob("*-journal"))
    assert not list(legacy_a.directory.glob("*-wal"))
    (folder,) = archive.iterdir()
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert {f["file"]: f["sha256"] for f in manifest["files"]} == {
        name: digest for name, (digest, _, _) in before.items()
    }
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["balanced"] is True
    assert report["outcome"] == "imported"
    out = capsys.readouterr().out
    assert "system_reports" in out
    assert "originals copied to" in out
    # the printed report names every file; the two never-written ones as empty
    empty = [line for line in out.splitlines() if "never written" in line]
    assert {
        n
        for n in ("pmp_patch_systems.db", "pmp_complete_intelligence.db")
        if any(n in line for line in empty)
    } == {"pmp_patch_systems.db", "pmp_complete_intelligence.db"}


def test_dry_run_writes_nothing(
    target: Engine, legacy_a: LegacyTruth, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate.upgrade(target)
    before = dump(target)
    url = target.url.render_as_string(hide_password=False)
    code = main(
        [
            "--database-url",
            url,
            "migrate-legacy",
            "--from",
            str(legacy_a.directory),
            "--legacy-timezone",
            ZONE,
            "--dry-run",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True
    assert report["balanced"] is True
    # what a real import would write, under the same (history) table names
    assert report["written"]["system_patch_states"] == len(legacy_a.states)
    assert dump(target) == before


def test_legacy_files_are_opened_read_only(legacy_a: LegacyTruth, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(legacy_a.directory, copy)
    (copy / "pmp_config.db").chmod(0o444)
    copy.chmod(0o555)  # no journal could even be created next to the files
    try:
        from pmp_intel.legacy.importer import ImportOptions, import_legacy

        report = import_legacy(None, copy, ImportOptions(timezone=ZONE, dry_run=True))
        assert report.balanced
    finally:
        copy.chmod(0o755)
    with sqlite3.connect(copy / "pmp_config.db") as conn:
        assert conn.execute("SELECT count(*) FROM all_systems").fetchone()[0] > 0


def test_the_alembic_command_line_takes_legacy_dir(target: Engine, legacy_a: LegacyTruth) -> None:
    """``alembic -x legacy_dir=PATH upgrade head``, exactly as a user types it."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    url = target.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(repo / "alembic.ini"),
            "-x",
            f"url={url}",
            "-x",
            f"legacy_dir={legacy_a.directory}",
            "-x",
            f"legacy_timezone={ZONE}",
            "upgrade",
            "head",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo,
    )
    assert done.returncode == 0, done.stderr
    q = scalar(target)
    assert q("SELECT count(*) FROM systems") == len(legacy_a.systems)
    assert q("SELECT count(*) FROM snapshots WHERE \"trigger\" = 'legacy-import'") == legacy_a.runs


def test_an_in_memory_sqlite_target_gets_the_rows_streamed(legacy_a: LegacyTruth) -> None:
    """A file target attaches the scratch database; an in-memory one (which closing its
    connection would destroy) is written row by row instead, with the same result."""
    from pmp_intel.store.engine import create_db_engine

    engine = create_db_engine("sqlite://")
    try:
        report = upgrade_with_legacy(engine, legacy_a.directory)
        assert report.balanced
        q = scalar(engine)
        assert q("SELECT count(*) FROM systems") == len(legacy_a.systems)
        assert q("SELECT count(*) FROM system_patch_states") == len(legacy_a.states)
        assert q("SELECT count(*) FROM patches WHERE patch_released_time LIKE '____-__-__ %'")
    finally:
        engine.dispose()


def test_a_rerun_archives_only_what_has_no_finished_archive(
    target: Engine, legacy_a: LegacyTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = target.url.render_as_string(hide_password=False)
    archive = tmp_path / "archive"
    argv = [
        "--database-url",
        url,
        "migrate-legacy",
        "--from",
        str(legacy_a.directory),
        "--legacy-timezone",
        ZONE,
        "--archive",
        str(archive),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    (first,) = archive.iterdir()
    assert not first.name.endswith(".partial")
    # a rerun finds the files imported and archived: nothing new
    assert main(argv) == 0
    assert list(archive.iterdir()) == [first]
    # an archive killed half-way is left as .partial and does not count: the rerun redoes it
    first.rename(first.with_name(first.name + ".partial"))
    capsys.readouterr()
    assert main(argv) == 0
    assert "originals copied to" in capsys.readouterr().out
    finished = [p for p in archive.iterdir() if not p.name.endswith(".partial")]
    assert len(finished) == 1
    assert (finished[0] / "MANIFEST.json").is_file()
