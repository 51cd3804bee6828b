"""query_raw admits one SELECT/WITH; underneath, every transaction is read-only."""

from __future__ import annotations

import pytest
from service_helpers import History
from sqlalchemy.exc import DBAPIError

from pmp_intel.service import PMPIntelligenceService, ReadOnlyViolation
from pmp_intel.service.readonly import check_select_only

REFUSED = [
    "WITH x AS (DELETE FROM snapshots RETURNING id) SELECT * FROM x",
    "SELECT 1; DROP TABLE snapshots",
    "SELECT 1;DROP TABLE snapshots;",
    "PRAGMA query_only = OFF",
    "ATTACH DATABASE 'other.db' AS other",
    "INSERT INTO sources (name) VALUES ('x')",
    "UPDATE sources SET name = 'x'",
    "DELETE FROM sources",
    "DROP TABLE sources",
    "CREATE TABLE t (a int)",
    "SELECT * INTO newtable FROM sources",
    "SELECT 1 /* unterminated",
    "SELECT 'unterminated",
    "  ",
    "VALUES (1)",
    "EXPLAIN DELETE FROM sources",
    "select 1; select 2",
    "SELECT 1 -- fine\n; DELETE FROM sources",
    "WITH a AS (SELECT 1) UPDATE sources SET name = 'x'",
    "SELECT * FROM sources FOR UPDATE",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
]

ACCEPTED = [
    "SELECT 1",
    "select 1;",
    "  (SELECT 1)  ",
    "SELECT ';' AS semi, 'DROP TABLE x; DELETE' AS words",
    "SELECT 1 -- DELETE FROM sources; DROP TABLE x",
    "SELECT 1 /* ; DROP TABLE x */",
    "WITH x AS (SELECT update_name FROM patches) SELECT * FROM x",
    'SELECT "delete" FROM (SELECT 1 AS "delete") AS t',
    "SELECT 'it''s; fine'",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_guard_refuses(sql: str, service: PMPIntelligenceService) -> None:
    with pytest.raises(ReadOnlyViolation):
        service.query_raw(sql)


@pytest.mark.parametrize("sql", ACCEPTED)
def test_guard_accepts(sql: str) -> None:
    check_select_only(sql)


def test_the_transaction_itself_is_read_only(
    service: PMPIntelligenceService, history: History, backend: str
) -> None:
    count = "SELECT COUNT(*) FROM sources"
    with service.connection() as conn:
        before = conn.exec_driver_sql(count).scalar()
    for write in (
        "DELETE FROM sources",
        "INSERT INTO sources (name) VALUES ('intruder')",
        "CREATE TABLE intruder (a integer)",
    ):
        # the guard bypassed: straight onto the service's connection
        with pytest.raises(DBAPIError, match=r"(?i)read.?only"), service.connection() as conn:
            conn.exec_driver_sql(write)
    with service.connection() as conn:
        assert conn.exec_driver_sql(count).scalar() == before
        assert before >= 1
    if backend == "sqlite":
        # PRAGMA query_only is switched off again for writers that share the engine
        with service.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (a integer)")
            conn.exec_driver_sql("INSERT INTO scratch (a) VALUES (1)")
    else:
        # the service's own PostgreSQL engine is read-only even outside connection()
        with pytest.raises(DBAPIError, match="read-only"), service.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (a integer)")


def test_parameters_are_portable(service: PMPIntelligenceService, history: History) -> None:
    positional = service.query_raw(
        "SELECT name, '10:30 ?' AS t FROM sources WHERE name = ?", (history.source,)
    )
    assert positional.data == [{"name": history.source, "t": "10:30 ?"}]
    named = service.query_raw("SELECT name FROM sources WHERE name = :n", {"n": history.source})
    assert named.data == [{"name": history.source}]
    assert named.columns == ("name",)
    with pytest.raises(ValueError, match="placeholders"):
        service.query_raw("SELECT ? AS a", (1, 2))
    snapshot = service.query_raw(
        "SELECT COUNT(*) AS n FROM systems WHERE valid_from_snapshot_id <= ?",
        (history.snapshot_ids[0],),
    )
    assert snapshot.data[0]["n"] >= len(history.truths[0].systems)
