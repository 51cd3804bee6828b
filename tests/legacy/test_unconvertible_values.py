"""A legacy value that cannot be converted is kept, never dropped without a trace: ISO text
times are times, anything else present but unconvertible goes to ``extra.legacy_unparsed``
(codes out of their domain to ``extra.legacy_invalid``), and rows whose ``raw_data`` is not
JSON are imported from their columns with the unreadable text kept and counted."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import FAMILY_A, FAMILY_C
from legacy_helpers import upgrade_with_legacy
from sqlalchemy import Engine, select

from pmp_intel.legacy.observations import RAW_UNREADABLE
from pmp_intel.legacy.report import ImportReport
from pmp_intel.store.models import DeploymentPolicy, SomComputer, System, SystemPatchState


def _current(engine: Engine, model: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(model).where(model.valid_to_snapshot_id.is_(None))).all()
        )


def _entry(report: ImportReport, table: str) -> Any:
    (entry,) = [t for t in report.tables if t.table == table]
    return entry


def test_dcapi_text_times_are_parsed_or_kept(target: Engine, tmp_path: Path) -> None:
    """DCAPI's ``installed_time`` is TEXT of unconfirmed format (maia-legacy.md §1.1c)."""
    folder = tmp_path / "legacy"
    folder.mkdir()
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.executescript(FAMILY_C)
        conn.executemany(
            "INSERT INTO dcapi_patch_mappings (resource_id, patch_id, patchname, patch_status, "
            "installed_time, extracted_at) VALUES (?, ?, 'KB', ?, ?, '2025-12-01 00:01:00')",
            [
                ("95000011194313", "500001", "Installed", "2025-11-28 03:20:00"),
                ("95000011194314", "500001", "Installed", "2025-11-28T13:20:00+10:00"),
                ("95000011194315", "500005", "Installed", "Nov 28, 2025 03:20 AM"),
                ("95000011194316", "500005", "Installed", "1764300000000"),
                ("95000011194317", "500005", "Missing", "--"),
            ],
        )
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    states = {row.resource_id: row for row in _current(target, SystemPatchState)}
    moment = datetime(2025, 11, 28, 3, 20, tzinfo=UTC)
    assert states[95000011194313].installed_time == moment
    assert states[95000011194314].installed_time == moment
    assert states[95000011194316].installed_time == moment
    unreadable = states[95000011194315]
    assert unreadable.installed_time is None
    assert unreadable.extra["legacy_unparsed"] == {"installed_time": "Nov 28, 2025 03:20 AM"}
    for resource_id in (95000011194313, 95000011194314, 95000011194316, 95000011194317):
        assert "legacy_unparsed" not in states[resource_id].extra  # '--' is PMP's null


def _family_a(folder: Path) -> sqlite3.Connection:
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "pmp_config.db")
    conn.executescript(FAMILY_A)
    conn.execute(
        "INSERT INTO api_extraction_runs (started_at, status) VALUES "
        "('2025-11-25T09:00:00', 'completed')"
    )
    return conn


def test_unreadable_raw_data_is_kept_and_counted(target: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "legacy"
    with _family_a(folder) as conn:
        conn.executemany(
            "INSERT INTO all_systems (resource_id, extraction_id, os_platform_name, raw_data, "
            "extracted_at) VALUES (?, 1, 'Windows 11', ?, '2025-11-25T09:10:00')",
            [
                (95000011194315, json.dumps({"resource_name": "ACME-LT01"})),
                (95000011194316, "{'resource_name': 'ACME-LT02'}"),  # a Python repr, not JSON
            ],
        )
        conn.execute(
            "INSERT INTO som_computers (resource_id, extraction_id, raw_data, extracted_at) "
            "VALUES (95000011194319, 1, 'not json', '2025-11-25T09:30:00')"
        )
    conn.close()
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    systems = {row.resource_id: row for row in _current(target, System)}
    assert systems[95000011194315].resource_name == "ACME-LT01"
    lost = systems[95000011194316]
    assert lost.os_platform_name == "Windows 11"  # imported from its columns
    assert lost.extra["legacy_unparsed"] == {"raw_data": "{'resource_name': 'ACME-LT02'}"}
    assert "legacy_unparsed" not in (systems[95000011194315].extra or {})
    entry = _entry(report, "all_systems")
    assert (entry.read, entry.imported, entry.skipped_total) == (2, 2, 0)
    assert entry.notes == {RAW_UNREADABLE: 1}
    assert entry.as_dict()["notes"] == {RAW_UNREADABLE: 1}
    (som,) = _current(target, SomComputer)
    assert som.extra["legacy_unparsed"] == {"raw_data": "not json"}
    assert _entry(report, "som_computers").notes == {RAW_UNREADABLE: 1}


def test_small_tables_keep_what_they_cannot_convert(target: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "legacy"
    with _family_a(folder) as conn:
        record = {
            "template_id": 11,
            "template_name": "GS1 - Weekend",
            "creation_time": "last week",
            "user_id": "admin",
            "is_template_alive": "maybe",
            "modified_time": 0,
        }
        conn.execute(
            "INSERT INTO deployment_policies (template_id, extraction_id, raw_data, extracted_at) "
            "VALUES (11, 1, ?, '2025-11-25T09:09:00')",
            (json.dumps(record),),
        )
    conn.close()
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    (policy,) = _current(target, DeploymentPolicy)
    assert policy.template_name == "GS1 - Weekend"
    assert (policy.creation_time, policy.user_id, policy.is_template_alive) == (None, None, None)
    assert policy.extra["legacy_unparsed"] == {
        "creation_time": "last week",
        "user_id": "admin",
        "is_template_alive": "maybe",
    }  # modified_time 0 is "never", not a lost value


def test_system_reports_keep_unconvertible_state_fields(target: Engine, tmp_path: Path) -> None:
    from builder import SYSTEMREPORTS

    folder = tmp_path / "legacy"
    folder.mkdir()
    entry = {
        "patch_id": 500001,
        "patch_status": 206,
        "install_error_code": "0x80070005",
        "installed_time": "yesterday",
        "patch_released_time": "2025-10-14",
    }
    with sqlite3.connect(folder / "pmp_systemreports.db") as conn:
        conn.executescript(SYSTEMREPORTS)
        conn.execute(
            "INSERT INTO system_reports (extraction_id, resource_id, patch_id, patch_status, "
            "raw_data, extracted_at) VALUES (1, 95000011194313, 500001, 206, ?, "
            "'2025-12-01T09:05:00')",
            (json.dumps(entry),),
        )
        conn.execute(
            "INSERT INTO system_reports (extraction_id, resource_id, patch_id, patch_status, "
            "raw_data, extracted_at) VALUES (1, 95000011194313, 500002, 202, '{broken', "
            "'2025-12-01T09:05:01')"
        )
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    states = {row.patch_id: row for row in _current(target, SystemPatchState)}
    failed = states[500001]
    assert (failed.install_status, failed.install_error_code, failed.installed_time) == (
        206,
        None,
        None,
    )
    assert failed.extra["legacy_unparsed"] == {
        "install_error_code": "0x80070005",
        "installed_time": "yesterday",
    }
    assert states[500002].install_status == 202  # from its columns
    assert states[500002].extra["legacy_unparsed"] == {"raw_data": "{broken"}
    assert _entry(report, "system_reports").notes == {RAW_UNREADABLE: 1}
