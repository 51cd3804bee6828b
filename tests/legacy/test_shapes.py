"""Every table shape the old tools could leave behind is recognised and read without error:
the consolidation sprint's unified tables (maia-legacy.md §3.1) wherever they were created,
empty tables of no known shape, and tables holding only their shape's required columns."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from builder import (
    UNIFIED_TABLES,
    LegacyTruth,
    minimal_shape_dir,
    run_unified_schema_script,
    wasted_schema_files,
)
from legacy_helpers import upgrade_with_legacy
from sqlalchemy import Engine, select

from pmp_intel.legacy.errors import LegacyFileError
from pmp_intel.legacy.importer import ImportOptions, import_legacy
from pmp_intel.legacy.report import ImportReport
from pmp_intel.legacy.shapes import SHAPES, Shape, match_shape
from pmp_intel.store.models import (
    DeploymentPolicy,
    DeploymentTask,
    Patch,
    PatchVulnerability,
    System,
    SystemPatchState,
    Vulnerability,
)

UNIFIED_ONLY = ("systems", "patches", "patch_system_mapping", "vulnerabilities", "deployment_tasks")


@pytest.fixture
def copy(legacy_a: LegacyTruth, tmp_path: Path) -> Path:
    folder = tmp_path / "legacy"
    shutil.copytree(legacy_a.directory, folder)
    return folder


def _accounts(report: ImportReport) -> dict[tuple[str, str], tuple[str, int]]:
    return {(t.file, t.table): (t.shape, t.read) for t in report.tables}


def _current(engine: Engine, model: type) -> list[object]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(model).where(model.valid_to_snapshot_id.is_(None))).all()
        )


def test_unified_tables_left_in_pmp_config_are_accounted_not_refused(
    copy: Path, target: Engine, legacy_a: LegacyTruth
) -> None:
    """The unified extractor's schema script, run once on the live family-A pmp_config.db,
    left its tables there, empty; the estate imported as before."""
    left = run_unified_schema_script(copy / "pmp_config.db")
    assert set(UNIFIED_ONLY) <= set(left)
    report = upgrade_with_legacy(target, copy)
    assert report.balanced
    accounts = _accounts(report)
    for table in UNIFIED_ONLY:
        shape, read = accounts[("pmp_config.db", table)]
        assert shape == f"U.{table}"
        assert read == 0
    assert accounts[("pmp_config.db", "deployment_policies")][0] == "A.deployment_policies"
    assert {row.resource_id for row in _current(target, System)} == set(legacy_a.systems)


def test_empty_tables_of_no_known_shape_are_warned_about(
    copy: Path, target: Engine, legacy_a: LegacyTruth
) -> None:
    """The two databases the old plans call "empty … wasted schema": their tables hold no
    rows, so unexpected columns are reported, not fatal."""
    wasted_schema_files(copy)
    report = upgrade_with_legacy(target, copy)
    assert report.balanced
    accounts = _accounts(report)
    for name in ("pmp_complete_intelligence.db", "pmp_patch_systems.db"):
        assert accounts[(name, "systems")] == ("unexpected columns", 0)
        assert accounts[(name, "patches")] == ("unexpected columns", 0)
        assert any(name in w and "systems" in w and "no rows" in w for w in report.warnings)
    assert {row.resource_id for row in _current(target, System)} == set(legacy_a.systems)


def test_a_table_of_unexpected_columns_that_holds_rows_is_still_refused(copy: Path) -> None:
    wasted_schema_files(copy)
    with sqlite3.connect(copy / "pmp_patch_systems.db") as conn:
        conn.execute("INSERT INTO patches (patch_id, title) VALUES ('500001', 'KB5000001')")
    with pytest.raises(
        LegacyFileError,
        match=r"pmp_patch_systems\.db: table patches has unexpected columns \(id, patch_id, "
        r"title\); it matches no known Maia shape",
    ):
        import_legacy(None, copy, ImportOptions(dry_run=True))


def test_unified_tables_with_rows_are_imported(tmp_path: Path, target: Engine) -> None:
    """A pmp_config.db the unified extractor created itself (§3.5): it fills the metric
    tables, vulnerabilities and deployment tasks; systems, patches and mappings are read
    too, should a file hold them."""
    folder = tmp_path / "legacy"
    folder.mkdir()
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.executescript(UNIFIED_TABLES)
        conn.execute(
            "INSERT INTO snapshots (timestamp, status) VALUES ('2026-01-16 06:00:00', 'partial')"
        )
        conn.execute(
            "INSERT INTO vulnerabilities (snapshot_id, cve_id, cve_year, cvss_score, "
            "cvss_severity, pmp_patch_ids, description, published_date, extracted_at) VALUES "
            "(1, 'CVE-2025-1111', 2025, 9.8, 'CRITICAL', '500001,500002', 'RCE', "
            "'2025-10-14T00:00:00', '2026-01-16 06:00:05')"
        )
        conn.execute(
            "INSERT INTO deployment_tasks (snapshot_id, apd_task_id, task_name, task_status, "
            "execution_status, platform_name, target_systems_count, scheduled_time, "
            "success_count, failure_count, extracted_at) VALUES (1, '4001', 'Weekend patching', "
            "'active', 'Completed', 'Windows', 120, 1768500000000, 118, 2, '2026-01-16 06:00:06')"
        )
        conn.execute(
            "INSERT INTO deployment_policies (snapshot_id, template_id, template_name, "
            "creation_time, raw_data, extracted_at) VALUES (1, 11, 'GS1 - Weekend', "
            "1700000000000, ?, '2026-01-16 06:00:07')",
            (json.dumps({"template_id": 11, "customer_id": 301}),),
        )
        conn.execute(
            "INSERT INTO systems (snapshot_id, resource_id, resource_name, computer_name, "
            "branch_office_name, os_name, raw_data, extracted_at) VALUES (1, '95000011194313', "
            "'GS1-DC01', 'gs1-dc01', 'GS1 Pty Ltd', 'Windows Server 2019', ?, "
            "'2026-01-16 06:00:08')",
            (json.dumps({"resource_id": 95000011194313, "ip_address": "10.0.0.5"}),),
        )
        conn.execute(
            "INSERT INTO patches (snapshot_id, pmp_patch_id, patch_name, bulletin_id, "
            "severity, vendor_name, raw_data, extracted_at) VALUES (1, '500001', 'KB5000001 CU', "
            "'KB5000001', 4, 'Microsoft', NULL, '2026-01-16 06:00:09')"
        )
        conn.execute(
            "INSERT INTO patch_system_mapping (snapshot_id, pmp_patch_id, resource_id, "
            "patch_status, approval_status, extracted_at) VALUES (1, '500001', "
            "'95000011194313', 202, 211, '2026-01-16 06:00:10')"
        )
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    assert report.totals()["skipped"] == 0
    (vulnerability,) = _current(target, Vulnerability)
    assert (vulnerability.cve_id, vulnerability.cvss_score, vulnerability.cvss_severity) == (
        "CVE-2025-1111",
        9.8,
        "CRITICAL",
    )
    assert vulnerability.description == "RCE"
    links = {(row.patch_id, row.cve_id) for row in _current(target, PatchVulnerability)}
    assert links == {(500001, "CVE-2025-1111"), (500002, "CVE-2025-1111")}
    (task,) = _current(target, DeploymentTask)
    assert (task.task_id, task.task_name, task.total_target) == (4001, "Weekend patching", 120)
    (policy,) = _current(target, DeploymentPolicy)
    assert (policy.template_id, policy.template_name, policy.customer_id) == (
        11,
        "GS1 - Weekend",
        301,
    )
    (system,) = _current(target, System)
    assert (system.resource_name, system.ip_address) == ("GS1-DC01", "10.0.0.5")
    (patch,) = _current(target, Patch)
    assert (patch.patch_id, patch.severity, patch.vendor_name) == (500001, 4, "Microsoft")
    (state,) = _current(target, SystemPatchState)
    assert (state.install_status, state.approval_status) == (202, 211)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.key)
def test_a_shape_is_matched_by_its_full_columns(shape: Shape) -> None:
    assert match_shape(shape.table, shape.known) is shape


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.key)
def test_every_shape_with_only_its_required_columns_imports(
    shape: Shape, engine: Engine, tmp_path: Path
) -> None:
    """The shapes accept a table with just their required columns; the readers must then
    read the optional ones as NULL, not fail on them."""
    folder = minimal_shape_dir(tmp_path / "legacy", shape.table, shape.family, shape.required)
    options = ImportOptions(source_name=f"minimal {shape.key}", timezone="UTC")
    with engine.connect() as connection:
        try:
            report = import_legacy(connection, folder, options)
        finally:
            connection.rollback()
    assert report.balanced
    (entry,) = [t for t in report.tables if t.table == shape.table]
    assert entry.shape.split(".")[1] == shape.table
    assert entry.read == 1


def test_the_old_service_fixture_all_systems_shape_imports(tmp_path: Path, target: Engine) -> None:
    """``all_systems(id, extraction_id, raw_data)``, the old service tests' fixture (§4.4)."""
    folder = tmp_path / "legacy"
    folder.mkdir()
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.execute(
            "CREATE TABLE all_systems (id INTEGER PRIMARY KEY AUTOINCREMENT, extraction_id "
            "INTEGER, raw_data TEXT)"
        )
        conn.executemany(
            "INSERT INTO all_systems (extraction_id, raw_data) VALUES (1, ?)",
            [
                (
                    json.dumps(
                        {
                            "resource_id": 9500 + i,
                            "resource_name": f"GS1-WS{i}",
                            "os_name": "Windows 11",
                            "resource_health_status": 3,
                        }
                    ),
                )
                for i in range(3)
            ],
        )
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    names = sorted(row.resource_name for row in _current(target, System))
    assert names == ["GS1-WS0", "GS1-WS1", "GS1-WS2"]
