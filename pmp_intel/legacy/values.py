"""Normalise legacy values: PMP's null sentinels, epoch milliseconds, local and UTC text
timestamps, and the codes the old tools stored as numbers or words.

Every converter returns ``None`` for "no value" and never raises on bad input: a value that
cannot be converted is reported by the caller (it keeps the original in ``extra``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

#: PMP's (and the old tools') ways of saying "no value".
SENTINELS = frozenset({"--", "NA", "N/A", "", "-1", "null", "None"})

#: Epoch values below this are taken as seconds, not milliseconds (≈ 1973-03-03 in ms).
_SECONDS_CUTOFF = 100_000_000_000
#: Epoch milliseconds beyond this (year 2200) are garbage.
_MS_CEILING = 7_258_118_400_000

SEVERITY_WORDS = {
    "unrated": 0,
    "none": 0,
    "low": 1,
    "moderate": 2,
    "medium": 2,
    "important": 3,
    "high": 3,
    "critical": 4,
}
INSTALL_WORDS = {
    "installed": 201,
    "missing": 202,
    "not installed": 202,
    "failed": 206,
    "failed to install": 206,
}
PLATFORM_WORDS = {"windows": 1, "mac": 2, "macos": 2, "linux": 3}


def clean(value: Any) -> Any:
    """``value`` with PMP's sentinels (``'--'``, ``'NA'``, ``-1``, empty text) turned into None."""
    if value is None:
        return None
    kind = type(value)
    if kind is int:  # the common cases first (called millions of times at the real sizes)
        return None if value == -1 else value
    if isinstance(value, str):
        stripped = value.strip()
        return None if stripped in SENTINELS else stripped
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value == -1:
        return None
    return value


def to_int(value: Any) -> int | None:
    """An integer, from an int, an integral float or numeric text; else None."""
    if type(value) is int:
        return None if value == -1 else value
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def to_float(value: Any) -> float | None:
    """A float from a number or numeric text; else None."""
    value = clean(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def to_text(value: Any, limit: int | None = None) -> str | None:
    """Text without sentinels, cut to ``limit`` characters."""
    if type(value) is str and limit is None:
        stripped = value.strip()
        return None if stripped in SENTINELS else stripped
    value = clean(value)
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:limit] if limit is not None else text


def to_bool(value: Any) -> bool | None:
    """True/False from booleans, 0/1, ``'true'``/``'false'``; else None."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "yes", "1", "y"):
            return True
        if lowered in ("false", "no", "0", "n"):
            return False
    return None


def epoch_ms(value: Any) -> datetime | None:
    """A PMP epoch-milliseconds time as an aware UTC datetime; ``0`` means never.

    Values below 10¹¹ are read as epoch *seconds* (the old fixtures used seconds). ISO text
    (``2025-11-28 03:20:00``, ``…T03:20:00.5Z``, ``…+10:00``; without an offset: UTC) is a
    time too: a TEXT column such as DCAPI's ``installed_time`` may hold one."""
    if type(value) is int:  # the same times recur across thousands of rows
        return _epoch_int(value)
    number = to_int(value)
    if number is None and isinstance(value, str):
        return _iso_ms(value.strip())
    return _epoch_number(number)


#: The ISO forms read as times (what SQLite's date functions read, for the SQL twin).
ISO_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?(Z|[+-]\d{2}:\d{2})?)?"
)


@lru_cache(maxsize=1 << 12)
def _iso_ms(text: str) -> datetime | None:
    """ISO text as UTC, to the millisecond (rounded as SQLite rounds), within the epoch
    bounds; None if it is not ISO text."""
    match = ISO_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, seconds, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None
    if int((seconds or "0")[:2]) > 59:
        return None
    millis = int(float(seconds or 0) * 1000 + 0.5)
    if offset and offset != "Z":
        if int(offset[1:3]) > 14 or int(offset[4:6]) > 59:
            return None
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        moment = moment.replace(tzinfo=timezone(sign * shift))
    else:
        moment = moment.replace(tzinfo=UTC)
    total = round(moment.timestamp() * 1000) + millis
    if total <= 0 or total > _MS_CEILING:
        return None
    return datetime.fromtimestamp(total / 1000, tz=UTC)


@lru_cache(maxsize=1 << 16)
def _epoch_int(value: int) -> datetime | None:
    return _epoch_number(None if value == -1 else value)


def _epoch_number(number: int | None) -> datetime | None:
    if number is None or number <= 0:
        return None
    if number < _SECONDS_CUTOFF:
        number *= 1000
    if number > _MS_CEILING:
        return None
    return datetime.fromtimestamp(number / 1000, tz=UTC)


def _parse_iso(value: Any) -> datetime | None:
    text = to_text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def local_text(value: Any, zone: tzinfo | None) -> datetime | None:
    """A naive local-time ISO string (``datetime.now().isoformat()``) as aware UTC.

    ``zone`` None means the machine's local zone (with its daylight-saving rules). A string
    that carries an offset is converted as it says."""
    moment = _parse_iso(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone() if zone is None else moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def utc_text(value: Any) -> datetime | None:
    """SQLite ``CURRENT_TIMESTAMP`` text (``YYYY-MM-DD HH:MM:SS``, UTC) as aware UTC."""
    moment = _parse_iso(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_domain(value: Any, allowed: frozenset[int]) -> int | None:
    """The integer ``value`` if it is one of ``allowed``; else None."""
    number = to_int(value)
    return number if number in allowed else None


def severity(value: Any) -> int | None:
    """PMP severity 0-4 from a number or a word (``'Critical'``, ``'Important'``…)."""
    number = to_int(value)
    if number is not None:
        return number if 0 <= number <= 4 else None
    text = to_text(value)
    return SEVERITY_WORDS.get(text.lower()) if text else None


def install_status(value: Any) -> int | None:
    """201 installed / 202 missing / 206 failed, from a code or a word."""
    number = to_int(value)
    if number is not None:
        return number if number in (201, 202, 206) else None
    text = to_text(value)
    return INSTALL_WORDS.get(text.lower()) if text else None


def live_status(value: Any) -> int | None:
    """PMP ``computer_live_status`` (1 live, 2 down, 3 unknown); the legacy 0 (offline)
    becomes 2."""
    number = to_int(value)
    if number == 0:
        return 2
    return number if number in (1, 2, 3) else None


def platform(value: Any) -> int | None:
    """1 Windows, 2 Mac, 3 Linux, from a code or a platform name."""
    number = to_int(value)
    if number is not None:
        return number if number in (1, 2, 3) else None
    text = to_text(value)
    if not text:
        return None
    lowered = text.lower()
    for word, code in PLATFORM_WORDS.items():
        if lowered.startswith(word):
            return code
    return None


def parse_json(text: Any) -> dict[str, Any] | None:
    """A JSON object from a ``raw_data``-style column; None if absent, invalid or not an
    object."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def unwrap(document: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """``document[key]`` when it is an object (``message_response`` → ``healthpolicy``…),
    else the document itself."""
    if document is None:
        return None
    if "message_response" in document and isinstance(document["message_response"], dict):
        document = document["message_response"]
    inner = document.get(key)
    return inner if isinstance(inner, dict) else document
