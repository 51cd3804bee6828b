"""Old callers' call shapes (maia-legacy.md §4.3, §4.4) keep working beside the new API.

* ``query_raw(sql: str, database: str = "auto")``: the database as the second positional
  argument, and the legacy file names, which now read the unified database;
* ``get_patch_deployment_status(patch_id: str)`` matched ``patch_name LIKE '%<patch_id>%'``,
  so a KB number's digits found its patches;
* the ``snapshot_id`` arguments of the P6 methods gave an empty result for a snapshot that
  cannot be read;
* the freshness report had one entry per legacy file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest
from factories import (
    PatchFactory,
    SnapshotFactory,
    SourceFactory,
    SystemFactory,
    SystemPatchStateFactory,
    bind_session,
)
from service_helpers import History
from sqlalchemy.orm import Session

from pmp_intel.service import PMPIntelligenceService, ReadOnlyViolation
from pmp_intel.service.results import LEGACY_DATABASES
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade

COUNT_SYSTEMS = "SELECT COUNT(*) AS n FROM systems"


def _deprecations(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]


# ----------------------------------------------------------------------------- query_raw


def test_query_raw_takes_the_database_as_the_legacy_second_argument(
    service: PMPIntelligenceService,
) -> None:
    expected = service.query_raw(COUNT_SYSTEMS).data
    assert expected[0]["n"] > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("auto", service.database_name, service.UNIFIED_DB):
            result = service.query_raw(COUNT_SYSTEMS, name)  # legacy: (sql, database)
            assert result.data == expected, name
            assert result.source_database == service.database_name, name
        # the legacy keyword, and the new API's third positional argument, still work
        assert service.query_raw(COUNT_SYSTEMS, database="auto").data == expected
        assert service.query_raw(COUNT_SYSTEMS, (), "auto").data == expected
        assert service.query_raw(COUNT_SYSTEMS, "auto", "auto").data == expected
    assert _deprecations(caught) == []  # "auto" and the unified database are not deprecated


@pytest.mark.parametrize("name", sorted(LEGACY_DATABASES))
def test_legacy_database_names_read_the_unified_database_with_a_warning(
    service: PMPIntelligenceService, name: str
) -> None:
    expected = service.query_raw(COUNT_SYSTEMS).data
    with pytest.warns(DeprecationWarning, match=rf"database='{name}'.*imported into") as caught:
        by_keyword = service.query_raw(COUNT_SYSTEMS, database=name)
    assert caught[0].filename == __file__  # the warning points at the caller
    with pytest.warns(DeprecationWarning, match=name):
        positional = service.query_raw(COUNT_SYSTEMS, name)
    for result in (by_keyword, positional):
        assert result.data == expected
        # what the legacy service reported (§4.4: source_database == "pmp_config.db")
        assert result.source_database == result.source == name
    with pytest.warns(DeprecationWarning, match=name):
        bound = service.query_raw("SELECT ? AS a, ? AS b", ["x", 2], name)
    assert bound.data == [{"a": "x", "b": 2}]
    assert bound.source_database == name


def test_query_raw_still_refuses_unknown_databases_and_writes(
    service: PMPIntelligenceService,
) -> None:
    for unknown in ("pmp_other.db", "PMP_CONFIG.DB", "intelligence"):
        with pytest.raises(ValueError, match=rf"unknown database '{unknown}'.*pmp_config\.db"):
            service.query_raw(COUNT_SYSTEMS, unknown)
        with pytest.raises(ValueError, match="unknown database"):
            service.query_raw(COUNT_SYSTEMS, database=unknown)
    with pytest.raises(ValueError, match="unknown database 3"):
        service.query_raw(COUNT_SYSTEMS, (), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="two databases"):
        service.query_raw(COUNT_SYSTEMS, "pmp_config.db", "pmp_systemreports.db")
    # a legacy name is no way around the read-only guard
    for database in ("auto", "pmp_config.db"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with pytest.raises(ReadOnlyViolation):
                service.query_raw("DELETE FROM systems", database)
            with pytest.raises(ReadOnlyViolation):
                service.query_raw("SELECT 1; DROP TABLE systems", database=database)
    assert service.query_raw(COUNT_SYSTEMS).data[0]["n"] > 0


# ----------------------------------------------------------------------------- freshness


def test_freshness_report_answers_legacy_database_names(
    service: PMPIntelligenceService, history: History
) -> None:
    report = service.get_data_freshness_report()
    entry = report[service.database_name]
    assert entry.last_refresh == history.started[-1]
    with pytest.warns(DeprecationWarning, match="'pmp_config.db' entry") as caught:
        assert report["pmp_config.db"] is entry  # §4.4: report['pmp_config.db'].is_stale
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="'pmp_systemreports.db' entry"):
        assert report.get("pmp_systemreports.db") is entry
    assert entry.is_stale is True
    # the report itself lists the one database it describes
    assert list(report) == [service.database_name]
    assert "pmp_config.db" not in report
    assert report.get("nothing.db") is None
    assert report.get(service.database_name) is entry
    with pytest.raises(KeyError):
        report["nothing.db"]


# ----------------------------------------------------------------------------- a small estate


@dataclass
class Estate:
    url: str
    snapshot_id: int
    other_source_snapshot: int
    unfinished_snapshot: int


@pytest.fixture
def estate(fresh_database_url: str) -> Estate:
    """One source, two systems, patches chosen so that ids, KB numbers and names overlap."""
    engine = create_db_engine(fresh_database_url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            bind_session(session)
            try:
                source = SourceFactory(name="legacy")
                snap = SnapshotFactory(source=source)
                other = SnapshotFactory(source=SourceFactory(name="other"))
                unfinished = SnapshotFactory(source=source, in_progress=True)
                for rid, name in ((1, "host-a"), (2, "host-b")):
                    SystemFactory(valid_from_snapshot=snap, resource_id=rid, resource_name=name)
                patches = {
                    5022925: ("windows-kb5022925-x64.msu", "MS25-006"),  # id and name
                    410001: ("windows-kb5022925-arm64.msu", "MS25-006"),  # name
                    410002: ("office-update.msp", "KB5022925"),  # bulletin
                    502292: ("unrelated.exe", "TU-1"),  # id = a prefix of the KB number
                    3153: ("HP ProBook 3153_2.10.308.exe", "BIOS-802"),  # id, name with "_"
                }
                for pid, (name, bulletin) in patches.items():
                    PatchFactory(
                        valid_from_snapshot=snap,
                        patch_id=pid,
                        patch_name=name,
                        bulletin_id=bulletin,
                    )
                states = [
                    (1, 5022925, 201, None),
                    (1, 410001, 202, None),
                    (1, 410002, 206, None),
                    (1, 502292, 202, None),
                    (1, 3153, 202, None),
                    (2, 5022925, 201, 207),
                    (2, 410002, 202, None),
                ]
                for rid, pid, status, deployment in states:
                    SystemPatchStateFactory(
                        valid_from_snapshot=snap,
                        resource_id=rid,
                        patch_id=pid,
                        install_status=status,
                        deployment_status=deployment,
                    )
                session.commit()
                found = Estate(fresh_database_url, snap.id, other.id, unfinished.id)
            finally:
                bind_session(None)
    finally:
        engine.dispose()
    return found


def _pairs(service: PMPIntelligenceService, patch: str | int) -> list[tuple[str, str]]:
    return [(r["system_name"], r["patch_name"]) for r in service.get_patch_deployment_status(patch)]


A, B, C = "windows-kb5022925-x64.msu", "windows-kb5022925-arm64.msu", "office-update.msp"
E, D = "unrelated.exe", "HP ProBook 3153_2.10.308.exe"


def test_a_kb_number_s_digits_find_its_patches_as_before(estate: Estate) -> None:
    with PMPIntelligenceService(url=estate.url, source="legacy") as service:
        # by system name, then patch id; each (system, patch) pair once, although patch A
        # matches both by id and by name
        kb_rows = [("host-a", B), ("host-a", C), ("host-a", A), ("host-b", C), ("host-b", A)]
        assert _pairs(service, "5022925") == kb_rows
        assert _pairs(service, "KB5022925") == kb_rows
        assert _pairs(service, "kb5022925") == kb_rows
        assert _pairs(service, " 5022925 ") == kb_rows
        # an int is PMP's patch id, nothing else
        assert _pairs(service, 5022925) == [("host-a", A), ("host-b", A)]
        # a digit string is the patch id OR a substring: both sets, in order, once each
        assert _pairs(service, "502292") == [
            ("host-a", B),
            ("host-a", C),
            ("host-a", E),
            ("host-a", A),
            ("host-b", C),
            ("host-b", A),
        ]
        assert _pairs(service, "3153") == [("host-a", D)]
        # always a substring, as the legacy LIKE '%…%' ("_" in names is common)
        assert _pairs(service, "3153_2.10") == [("host-a", D)]
        assert _pairs(service, "99999999999999999999") == []  # longer than any id
        rows = service.get_patch_deployment_status("5022925").data
        by_pair = {(r["system_name"], r["patch_name"]): r for r in rows}
        assert by_pair["host-b", A]["status_text"] == "Reboot Pending"
        assert by_pair["host-a", A]["status_text"] == "Installed"
        assert by_pair["host-a", C]["patch_status"] == 206
        assert by_pair["host-a", C]["status_text"] == "Not Installed"


def test_a_legacy_snapshot_id_that_cannot_be_read_gives_an_empty_result(estate: Estate) -> None:
    with PMPIntelligenceService(url=estate.url, source="legacy") as service:
        calls = {
            "does not exist": lambda: service.get_vulnerability_exposure(10**9),
            "belongs to another source": lambda: service.get_compliance_status(
                estate.other_source_snapshot
            ),
            "in_progress": lambda: service.get_deployment_history(estate.unfinished_snapshot, 5),
        }
        for reason, call in calls.items():
            result = call()
            assert result.data == [], reason
            assert result.snapshot_id is None, reason
            assert result.is_stale, reason
            assert reason in (result.staleness_warning or ""), reason
            assert result.source_name == "legacy", reason
        readable = service.get_vulnerability_exposure(estate.snapshot_id)
        assert readable.snapshot_id == estate.snapshot_id
        assert "no rows" not in (readable.staleness_warning or "")
        # the new keyword keeps saying what is wrong
        with pytest.raises(ValueError, match="does not exist"):
            service.get_vulnerability_exposure(snapshot=10**9)
        with pytest.raises(ValueError, match="belongs to another source"):
            service.get_deployment_history(snapshot=estate.other_source_snapshot)
