"""Mapping rules on small hand-made legacy files: what a field may come from, and how
observations of the same entity merge (newest per field, raw_data before columns)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builder import FAMILY_A, SYSTEMREPORTS, LegacyTruth
from legacy_helpers import upgrade_with_legacy
from sqlalchemy import Engine, select

from pmp_intel.store.models import Patch, System, SystemPatchState

#: Fields of a system-report entry that describe the system's state, not the patch.
PER_SYSTEM_FIELDS = {
    "resource_id",
    "resource_id_string",
    "patch_status",
    "approval_status",
    "patch_deployed",
    "deployment_status",
    "install_error_code",
    "deploy_remarks",
    "installed_time",
    "is_reboot_required",
    "legacy_table",
}


def _current(engine: Engine, model: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(model).where(model.valid_to_snapshot_id.is_(None))).all()
        )


def _reports_db(folder: Path, rows: list[tuple[Any, ...]]) -> Path:
    """A pmp_systemreports.db with one run and ``rows`` of (resource_id, patch_id,
    patch_status, approval_status, raw entry, extracted_at)."""
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(folder / "pmp_systemreports.db") as conn:
        conn.executescript(SYSTEMREPORTS)
        conn.execute(
            "INSERT INTO extraction_runs (started_at, status) VALUES "
            "('2025-12-01T09:00:00', 'completed')"
        )
        conn.executemany(
            "INSERT INTO system_reports (extraction_id, resource_id, patch_id, patch_status, "
            "approval_status, raw_data, extracted_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
            [(r, p, s, a, json.dumps(raw), at) for r, p, s, a, raw, at in rows],
        )
    return folder


def _entry(patch_id: int, status: int, approval: Any, **more: Any) -> dict[str, Any]:
    return {
        "patch_id": patch_id,
        "patch_name": f"KB{patch_id}",
        "bulletin_id": f"MS-{patch_id}",
        "severity": 4,
        "patch_status": status,
        "approval_status": approval,
        "is_reboot_required": 1,
        "patch_deployed": 1 if status == 201 else 0,
        "resource_id_string": "9500001",
        "deployment_status": 209 if status == 201 else "--",
        "install_error_code": "--",
        "deploy_remarks": "--",
        "installed_time": 1_764_000_000_000 if status == 201 else 0,
        "patch_released_time": 1_760_000_000_000,
        "patch_updated_time": 1_760_086_400_000,
        **more,
    }


def test_install_status_is_never_read_as_an_approval_code(target: Engine, tmp_path: Path) -> None:
    """``patch_status`` (201/202/206) is the install status: reading it as a candidate
    ``approval_status`` (0/211/212) noted every state as carrying an invalid approval."""
    folder = _reports_db(
        tmp_path / "legacy",
        [
            (9500001, 101, 201, 211, _entry(101, 201, 211), "2025-12-01T09:05:00"),
            (9500001, 102, 202, 0, _entry(102, 202, 0), "2025-12-01T09:05:01"),
            (9500001, 103, 206, None, _entry(103, 206, None), "2025-12-01T09:05:02"),
        ],
    )
    report = upgrade_with_legacy(target, folder)
    assert report.balanced
    states = {r.patch_id: r for r in _current(target, SystemPatchState)}
    assert {p: (s.install_status, s.approval_status) for p, s in states.items()} == {
        101: (201, 211),
        102: (202, 0),
        103: (206, None),
    }
    assert all("legacy_invalid" not in (s.extra or {}) for s in states.values())


def test_an_approval_code_outside_its_domain_is_noted_not_dropped(
    target: Engine, tmp_path: Path
) -> None:
    folder = _reports_db(
        tmp_path / "legacy",
        [(9500001, 101, 202, 999, _entry(101, 202, 999), "2025-12-01T09:05:00")],
    )
    upgrade_with_legacy(target, folder)
    (state,) = _current(target, SystemPatchState)
    assert state.approval_status is None
    assert state.extra["legacy_invalid"] == {"approval_status": 999}
    assert state.extra["legacy_table"] == "pmp_systemreports.db:system_reports"


def test_patches_take_facts_not_per_system_fields_from_reports(
    target: Engine, tmp_path: Path
) -> None:
    """A report entry describes one system's state of a patch; only its patch facts (name,
    bulletin, severity, times) belong to the patch, never to the patch's ``extra``."""
    folder = _reports_db(
        tmp_path / "legacy",
        [
            (9500001, 101, 201, 211, _entry(101, 201, 211), "2025-12-01T09:05:00"),
            (9500002, 101, 202, 211, _entry(101, 202, 211), "2025-12-01T09:06:00"),
        ],
    )
    upgrade_with_legacy(target, folder)
    (patch,) = _current(target, Patch)
    assert (patch.patch_name, patch.bulletin_id, patch.severity) == ("KB101", "MS-101", 4)
    assert patch.patch_released_time == datetime.fromtimestamp(1_760_000_000, tz=UTC)
    assert not set(patch.extra or {}) & PER_SYSTEM_FIELDS, patch.extra
    states = _current(target, SystemPatchState)
    assert {s.extra["resource_id_string"] for s in states} == {"9500001"}
    assert all(s.extra["is_reboot_required"] == 1 for s in states)


def test_imported_estate_has_no_report_fields_on_patches_and_no_false_notes(
    imported: tuple[Engine, Any], legacy_a: LegacyTruth
) -> None:
    """The same two rules over the whole realistic estate of the builder."""
    engine, _ = imported
    patches = _current(engine, Patch)
    leaked = [p.patch_id for p in patches if set(p.extra or {}) & PER_SYSTEM_FIELDS]
    assert leaked == []
    states = _current(engine, SystemPatchState)
    noted = [s for s in states if "approval_status" in (s.extra or {}).get("legacy_invalid", {})]
    assert noted == []
    from_reports = [s for s in states if s.extra["legacy_table"].endswith("system_reports")]
    assert from_reports
    assert {s.approval_status for s in from_reports} <= {0, 211}
    named = {p.patch_id: p.patch_name for p in patches}
    assert all(named[s.patch_id] == legacy_a.patches[s.patch_id].name for s in from_reports)


def test_update_id_never_comes_from_the_rowid_sqlite_made_up(
    target: Engine, tmp_path: Path
) -> None:
    """``all_patches.patch_id`` is INTEGER PRIMARY KEY filled from ``update_id``; a record
    without one got a fresh rowid there, which is not an update_id (maia-legacy.md §1.1d)."""
    folder = tmp_path / "legacy"
    folder.mkdir()
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.executescript(FAMILY_A)
        conn.execute(
            "INSERT INTO api_extraction_runs (started_at, status) VALUES "
            "('2025-12-01T09:00:00', 'completed')"
        )
        for patch_id, update_id in ((555001, None), (555002, 7)):
            record = {"patch_id": patch_id, "bulletin_id": f"KB{patch_id}", "update_name": "x"}
            if update_id is not None:
                record["update_id"] = update_id
            conn.execute(
                "INSERT INTO all_patches (patch_id, extraction_id, bulletin_id, raw_data, "
                "extracted_at) VALUES (?, 1, ?, ?, '2025-12-01T09:01:00')",
                (update_id, record["bulletin_id"], json.dumps(record)),
            )
        made_up = conn.execute(
            "SELECT patch_id FROM all_patches WHERE bulletin_id = 'KB555001'"
        ).fetchone()[0]
    assert made_up is not None  # SQLite filled the key
    upgrade_with_legacy(target, folder)
    patches = {p.patch_id: p.update_id for p in _current(target, Patch)}
    assert patches == {555001: None, 555002: 7}


def _systems_db(folder: Path) -> Path:
    """all_systems (older, raw_data + columns) and scan_details (newer, no name)."""
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(folder / "pmp_config.db") as conn:
        conn.executescript(FAMILY_A)
        conn.execute(
            "INSERT INTO api_extraction_runs (started_at, status) VALUES "
            "('2025-12-01T09:00:00', 'completed')"
        )
        older = {
            "resource_id": 9500001,
            "resource_name": "GS1-WS00001",
            "resource_health_status": 3,  # the column below says 1: raw_data wins
            "branch_office_name": "GS1 Pty Ltd",
            "ip_address": "10.0.0.1",
            "owner": "alice",
            "location": "Level 2",
        }
        conn.execute(
            "INSERT INTO all_systems (resource_id, extraction_id, resource_health_status, "
            "os_platform_name, raw_data, extracted_at) VALUES (9500001, 1, 1, 'Windows 11', ?, "
            "'2025-12-01T09:01:00')",
            (json.dumps(older),),
        )
        newer = {
            "resource_id": 9500001,
            "resource_name": "--",
            "ip_address": "10.0.0.99",
            "owner": "bob",
            "os_name": "Windows 11 Enterprise Edition (x64)",
        }
        conn.execute(
            "INSERT INTO scan_details (resource_id, extraction_id, raw_data, extracted_at) "
            "VALUES (9500001, 1, ?, '2025-12-01T10:01:00')",
            (json.dumps(newer),),
        )
    return folder


@pytest.mark.parametrize("check", ["fields", "extra"])
def test_newest_observation_wins_per_field_and_raw_data_before_columns(
    check: str, target: Engine, tmp_path: Path
) -> None:
    report = upgrade_with_legacy(target, _systems_db(tmp_path / "legacy"))
    (system,) = _current(target, System)
    if check == "fields":
        assert system.resource_name == "GS1-WS00001"  # newer said '--': older fills
        assert system.ip_address == "10.0.0.99"  # newer wins
        assert system.os_name == "Windows 11 Enterprise Edition (x64)"
        assert system.os_platform_name == "Windows 11"  # only a flattened column had it
        assert system.resource_health_status == 3  # raw_data before the column's 1
        assert system.branch_office_name == "GS1 Pty Ltd"
        by_table = {t.table: t for t in report.tables}
        assert (by_table["scan_details"].imported, by_table["all_systems"].merged) == (1, 1)
    else:
        assert system.extra["owner"] == "bob"  # newest per key
        assert system.extra["location"] == "Level 2"  # older fills
