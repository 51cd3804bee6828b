"""Bulk inserts write exactly what a Core ``insert()`` writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from factories import SnapshotFactory
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from pmp_intel.store.bulk import BulkInsert, bulk_insert, column_processor
from pmp_intel.store.models import StagedSystem
from pmp_intel.store.types import UTCDateTime

TABLE = StagedSystem.__table__


def _moments(count: int) -> list[datetime]:
    rng = random.Random(11)
    eastern = timezone(timedelta(hours=10))
    found = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 6, 30, 23, 0, 0, 1, tzinfo=eastern),  # another offset: to UTC
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for _ in range(count):
        base = datetime(1970, 1, 1, tzinfo=UTC)
        found.append(base + timedelta(microseconds=rng.randrange(0, 2**52)))
    return found


def test_sqlite_datetime_text_equals_the_types_own_processors() -> None:
    dialect = sqlite.dialect()
    declared = UTCDateTime()
    own = declared.dialect_impl(dialect).bind_processor(dialect)
    assert own is not None
    fast = column_processor(TABLE, "last_scan_time", dialect)
    assert fast is not None
    for moment in _moments(2000):
        assert fast(moment) == own(moment), moment


def test_naive_datetimes_are_refused_as_by_the_type() -> None:
    fast = column_processor(TABLE, "last_scan_time", sqlite.dialect())
    assert fast is not None
    with pytest.raises(ValueError, match="naive datetime"):
        fast(datetime(2026, 1, 1))


def _row(snapshot_id: int, i: int, moment: datetime) -> dict[str, Any]:
    return {
        "snapshot_id": snapshot_id,
        "endpoint": "bulk",
        "parent_key": "",
        "page": 1,
        "seq": i,
        "resource_id": 1000 + i,
        "resource_name": f"host-{i}" if i % 3 else None,
        "last_scan_time": moment,
        "reboot_required": bool(i % 2),
        "extra": {"i": i, "text": "é\t\n"} if i % 2 else None,
    }


def test_bulk_rows_read_back_like_core_inserted_rows(factory_session: Session) -> None:
    snapshot_id = SnapshotFactory().id
    moments = _moments(20)
    connection = factory_session.connection()
    rows = [_row(snapshot_id, i, m) for i, m in enumerate(moments)]
    assert bulk_insert(connection, TABLE, rows) == len(rows)
    connection.execute(insert(TABLE), [{**row, "endpoint": "core"} for row in rows])
    columns = ["seq", "resource_id", "resource_name", "last_scan_time", "reboot_required", "extra"]
    read = {
        endpoint: connection.execute(
            select(*(TABLE.c[c] for c in columns))
            .where(TABLE.c.snapshot_id == snapshot_id, TABLE.c.endpoint == endpoint)
            .order_by(TABLE.c.seq)
        ).all()
        for endpoint in ("bulk", "core")
    }
    assert read["bulk"] == read["core"]
    assert read["bulk"][3][3] == moments[3].astimezone(UTC)
    assert read["bulk"][1][5] == {"i": 1, "text": "é\t\n"}
    if connection.dialect.name == "sqlite":  # the stored timestamp text itself is the same
        stored = connection.execute(
            text(
                "SELECT endpoint, last_scan_time FROM stg_systems "
                "WHERE snapshot_id = :s ORDER BY seq, endpoint"
            ),
            {"s": snapshot_id},
        ).all()
        assert [r[1] for r in stored if r[0] == "bulk"] == [r[1] for r in stored if r[0] == "core"]
    # None is SQL NULL (a Core insert would store JSON 'null'): ``extra IS NULL`` finds it
    nulls = connection.execute(
        select(TABLE.c.seq).where(
            TABLE.c.snapshot_id == snapshot_id, TABLE.c.endpoint == "bulk", TABLE.c.extra.is_(None)
        )
    ).scalars().all()
    assert nulls == [i for i in range(len(rows)) if i % 2 == 0]


def test_prepared_insert_converts_only_processed_columns(engine: Engine) -> None:
    prepared = BulkInsert(TABLE, ["resource_id", "last_scan_time"], engine.dialect)
    assert [position for position, _ in prepared.conversions] == [1]
    rows = [[1, None], [2, datetime(2026, 1, 1, tzinfo=UTC)]]
    prepared.convert(rows)
    assert rows[0] == [1, None]
    assert rows[1][0] == 2
