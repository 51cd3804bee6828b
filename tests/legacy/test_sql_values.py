"""The SQL twins of the legacy value converters give what the Python converters give."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy import values as v

#: What the old tools wrote into these fields (codes, words, sentinels, epochs, padding).
CORPUS: list[Any] = [
    None,
    0,
    1,
    -1,
    2,
    3,
    4,
    5,
    7,
    21,
    22,
    201,
    202,
    206,
    207,
    209,
    211,
    212,
    228,
    1.0,
    2.5,
    -1.0,
    1764052565661,
    1701388800,
    7258118400001,
    "Critical",
    "important",
    " Moderate ",
    "low",
    "Unrated",
    "None",
    "null",
    "--",
    " -- ",
    "NA",
    "N/A",
    "",
    "   ",
    "-1",
    "3",
    " 42 ",
    "+5",
    "-7",
    "5.0",
    "5.5",
    "1764052565661",
    "Windows 11",
    "windows",
    "Mac OS",
    "macOS 14",
    "Linux",
    "true",
    "False",
    "yes",
    "n",
    "Installed",
    "missing",
    "Not Installed",
    "failed",
    "Failed to install",
    "abc",
    "12abc",
    "1.2.3",
    # ISO text times (e.g. DCAPI's TEXT installed_time), and text that only looks like one
    "2025-11-28 03:20:00",
    "2025-11-28T03:20:00",
    "2025-11-28T03:20:00.123456",
    "2025-11-28T03:20:00.1235Z",
    "2025-11-28T13:20:00+10:00",
    "2025-11-28T03:20:00.5-03:30",
    "2025-11-28 03:20",
    "2025-11-28",
    " 2025-11-28 03:20:59.9999 ",
    "Nov 28, 2025 03:20 AM",
    "2025-02-30",
    "2025-11-28 24:00",
    "2025-11-28 03:20:60",
    "2025-11-28T03:20:00+15:00",
    "2025-11-28 03:20:00 +10:00",
    "2025-11-28 03:20:00.",
    "1970-01-01",
    "9999-12-31",
]

CONVERTERS: dict[str, mp.Converter] = {
    "to_text": v.to_text,
    "to_int": v.to_int,
    "to_bool": v.to_bool,
    "epoch_ms": v.epoch_ms,
    "severity": v.severity,
    "install_status": v.install_status,
    "live_status": v.live_status,
    "platform": v.platform,
    "platform_name": mp.platform_name,
    "health": mp.HEALTH,
    "approval": mp.APPROVAL,
    "agent": mp.AGENT,
}


def _python(convert: Callable[[Any], Any], value: Any) -> Any:
    result = convert(value)
    if isinstance(result, datetime):
        return round(result.timestamp() * 1000)
    if isinstance(result, bool):
        return int(result)
    return result


@pytest.fixture(scope="module")
def db() -> sqlite3.Connection:
    return sqlite3.connect(":memory:")


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_sql_twin_agrees_with_python(name: str, db: sqlite3.Connection) -> None:
    convert = CONVERTERS[name]
    sql = sv.converter(convert)("x")
    disagreements = []
    for value in CORPUS:
        expected = _python(convert, value)
        (got,) = db.execute(f"WITH v(x) AS (VALUES (?)) SELECT {sql} FROM v", (value,)).fetchone()
        if isinstance(expected, float) and isinstance(got, float):
            same = abs(expected - got) < 1e-9
        else:
            same = expected == got and type(expected) is type(got)
        if not same:
            disagreements.append((value, expected, got))
    assert disagreements == []


def test_time_rendering_is_what_sqlalchemy_stores(db: sqlite3.Connection) -> None:
    (text,) = db.execute(f"SELECT {sv.render_time('1764052565661')}").fetchone()
    assert text == "2025-11-25 06:36:05.661000"
    (pg,) = db.execute(f"SELECT {sv.render_time('1764052565661', '+00')}").fetchone()
    assert pg == "2025-11-25 06:36:05.661000+00"


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_sql_twin_notes_the_same_lost_values(name: str, db: sqlite3.Connection) -> None:
    """A present value a converter cannot convert is kept in ``extra``
    (``legacy_invalid`` / ``legacy_unparsed``), on both paths alike."""
    convert = CONVERTERS[name]
    condition = sv.lost(convert, "x")
    disagreements = []
    for value in CORPUS:
        expected = mp.lost(convert, value) is not None and convert(value) is None
        if condition is None:
            got = False
        else:
            (hit,) = db.execute(f"WITH v(x) AS (VALUES (?)) SELECT {condition} FROM v", (value,))
            got = bool(hit[0])
        if expected != got:
            disagreements.append((value, expected, got))
    assert disagreements == []


def test_iso_text_is_a_time_and_other_text_is_not() -> None:
    from datetime import UTC

    assert v.epoch_ms("2025-11-28 03:20:00") == datetime(2025, 11, 28, 3, 20, tzinfo=UTC)
    assert v.epoch_ms("2025-11-28T13:20:00+10:00") == datetime(2025, 11, 28, 3, 20, tzinfo=UTC)
    assert v.epoch_ms("Nov 28, 2025 03:20 AM") is None
    assert mp.lost(v.epoch_ms, "Nov 28, 2025 03:20 AM") == "legacy_unparsed"
    assert mp.lost(v.epoch_ms, 0) is None  # 0 is "never", not a lost value
    assert mp.lost(mp.HEALTH, 7) == "legacy_invalid"
    assert mp.lost(v.to_text, "anything") is None
