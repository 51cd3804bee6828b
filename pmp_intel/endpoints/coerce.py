"""Value normalisation at the boundary (pmp-api.md §6a, design.md §2).

PMP sends numbers as strings on some editions, ``"--"`` / ``"NA"`` / ``-1`` for "no value",
epoch milliseconds for times, and numeric codes (sometimes i18n labels such as
``dc.common.IMPORTANT``). The annotated types below turn all of that into Python values:
``OptInt``, ``OptStr``, ``OptFloat``, ``OptBool``, ``EpochMs`` (aware UTC datetimes) and
``code_of(Enum)`` for the enums of :mod:`pmp_intel.store.models.codes`.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum
from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator

from pmp_intel.store.models.codes import (
    AgentInstallationStatus,
    ApprovalStatus,
    HealthStatus,
    InstallStatus,
    LiveStatus,
    Platform,
    ScanStatus,
    Severity,
)

#: Strings PMP uses for "no value".
SENTINELS = frozenset({"", "--", "-", "na", "n/a", "null", "none", "nil"})
#: The longest sentinel: a stripped string longer than this cannot be one (lower-casing
#: never shortens a string), which spares most values the ``lower()`` and set look-up.
_SENTINEL_MAX = max(len(s) for s in SENTINELS)
#: Below this an epoch value is taken as seconds, not milliseconds (1973-03 in ms).
SECONDS_THRESHOLD = 100_000_000_000


def is_sentinel(value: Any) -> bool:
    """True for None and PMP's "no value" strings."""
    return value is None or (isinstance(value, str) and value.strip().lower() in SENTINELS)


def to_int(value: Any) -> int | None:
    """An int from a number or numeric string; sentinels and -1 → None."""
    if type(value) is int:  # the common case first (``type``: bool is handled below)
        return None if value == -1 else value
    if is_sentinel(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return None if value == -1 else value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(f"not an integer: {value!r}")
        return None if value == -1 else int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                real = float(text)
            except ValueError:
                raise ValueError("not an integer") from None
            if not math.isfinite(real) or not real.is_integer():
                raise ValueError("not an integer") from None
            number = int(real)
        return None if number == -1 else number
    raise ValueError(f"not an integer: {type(value).__name__}")


def to_float(value: Any) -> float | None:
    """A float from a number or numeric string; sentinels → None."""
    if type(value) is float:
        return value
    if is_sentinel(value):
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError("not a number") from None
    raise ValueError(f"not a number: {type(value).__name__}")


def to_str(value: Any) -> str | None:
    """A string; sentinels → None, numbers rendered without a trailing ``.0``."""
    if type(value) is str:  # the common case first: one strip, rarely a lower()
        text = value.strip()
        if len(text) > _SENTINEL_MAX or text.lower() not in SENTINELS:
            return text
        return None
    if is_sentinel(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value).strip() if isinstance(value, str) else str(value)
    raise ValueError(f"not a string: {type(value).__name__}")


_TRUE = frozenset({"true", "yes", "y", "1", "enabled", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "disabled", "off"})


def to_bool(value: Any) -> bool | None:
    """A bool from booleans, 0/1 and their strings; sentinels → None."""
    if type(value) is bool:
        return value
    if is_sentinel(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("not a boolean")


def to_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds (or seconds, or ISO text);
    sentinels and values ≤ 0 → None."""
    if type(value) is int and value >= SECONDS_THRESHOLD:  # epoch ms: the common case
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("timestamp out of range") from None
    if type(value) is int or type(value) is float:
        return _from_epoch(float(value))
    if type(value) is str:
        try:
            epoch = float(value.strip())  # no sentinel parses as a float
        except ValueError:
            pass
        else:
            return _from_epoch(epoch)
    if is_sentinel(value):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("not a timestamp") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    else:
        raise ValueError("not a timestamp")
    return _from_epoch(number)


def _from_epoch(number: float) -> datetime | None:
    """Epoch seconds or milliseconds (by :data:`SECONDS_THRESHOLD`); ≤ 0 → None."""
    if not math.isfinite(number):
        raise ValueError("timestamp out of range")
    if number <= 0:
        return None
    seconds = number if number < SECONDS_THRESHOLD else number / 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999: not a real timestamp
        raise ValueError("timestamp out of range") from None


def _label_key(text: str) -> str:
    last = text.strip().rsplit(".", 1)[-1]
    return re.sub(r"[^A-Z0-9]+", "_", last.upper()).strip("_")


class CodeOf:
    """Annotation marker: the field holds a code of ``enum`` (see :func:`parse_code`)."""

    def __init__(
        self,
        enum: type[IntEnum],
        labels: dict[str, int] | None = None,
        codes: dict[int, int] | None = None,
    ) -> None:
        self.enum = enum
        self.labels = {_label_key(k): v for k, v in (labels or {}).items()}
        #: Other numbers an API uses for a member (its code → the member's value).
        self.codes = dict(codes or {})
        #: value → member (or the error) for values seen before; codes repeat endlessly
        #: (the same few per field), so this turns most parses into one dict lookup.
        self.memo: dict[Any, IntEnum | ValueError | None] = {}

    def __repr__(self) -> str:
        return f"CodeOf({self.enum.__name__})"


#: Distinct values remembered per code field (a hostile server cannot grow it further).
MEMO_LIMIT = 4096


def parse_code(marker: CodeOf, value: Any) -> IntEnum | None:
    """The enum member for a numeric code or a label (``"Critical"``,
    ``"dc.common.IMPORTANT"``); sentinels → None; unknown codes raise ``ValueError``."""
    try:
        known = marker.memo[(type(value), value)]
    except (KeyError, TypeError):
        pass
    else:
        if isinstance(known, ValueError):
            raise known
        return known
    try:
        result: IntEnum | ValueError | None = _parse_code(marker, value)
    except ValueError as exc:
        result = exc
    if len(marker.memo) < MEMO_LIMIT:
        with contextlib.suppress(TypeError):  # an unhashable value is not remembered
            marker.memo[(type(value), value)] = result
    if isinstance(result, ValueError):
        raise result
    return result


def _parse_code(marker: CodeOf, value: Any) -> IntEnum | None:
    if is_sentinel(value):
        return None
    enum = marker.enum
    if isinstance(value, enum):
        return value
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        key = _label_key(value)
        if key in marker.labels:
            return enum(marker.labels[key])
        if key in enum.__members__:
            return enum[key]
        raise ValueError(f"unknown {enum.__name__} label")
    number = to_int(value)
    if number is None:
        return None
    try:
        return enum(marker.codes.get(number, number))
    except ValueError:
        raise ValueError(f"unknown {enum.__name__} code {number}") from None


#: Validator → the field annotation its result always satisfies, so that pydantic returns
#: the result unchanged: the fast path (:mod:`pmp_intel.endpoints.fast`) calls these
#: directly instead of going through pydantic. The code validators add themselves.
FINAL_VALIDATORS: dict[Callable[[Any], Any], Any] = {
    to_int: int | None,
    to_float: float | None,
    to_str: str | None,
    to_bool: bool | None,
    to_datetime: datetime | None,
}


def _code_validator(marker: CodeOf) -> Callable[[Any], Any]:
    validate = partial(parse_code, marker)
    FINAL_VALIDATORS[validate] = marker.enum | None
    return validate


def code_validator(
    enum: type[IntEnum], labels: dict[str, int] | None = None, codes: dict[int, int] | None = None
) -> tuple[CodeOf, BeforeValidator]:
    """The marker and validator for an ``Annotated[enum | None, …]`` code field."""
    marker = CodeOf(enum, labels, codes)
    return marker, BeforeValidator(_code_validator(marker))


OptInt = Annotated[int | None, BeforeValidator(to_int)]
OptFloat = Annotated[float | None, BeforeValidator(to_float)]
OptStr = Annotated[str | None, BeforeValidator(to_str)]
OptBool = Annotated[bool | None, BeforeValidator(to_bool)]
EpochMs = Annotated[datetime | None, BeforeValidator(to_datetime)]

_SEV = code_validator(Severity)
_INSTALL = code_validator(
    InstallStatus, {"failed to install": 206, "installation failed": 206, "not installed": 202}
)
_APPROVAL = code_validator(
    ApprovalStatus, {"unapproved": 0, "not approved": 0, "approve": 211, "decline": 212}
)
_HEALTH = code_validator(HealthStatus, {"moderately vulnerable": 2, "health unknown": 0})
_LIVE = code_validator(LiveStatus, {"online": 1, "offline": 2, "up": 1})
_SCAN = code_validator(
    ScanStatus, {"scanning completed": 228, "scanning_completed": 228, "scan failed": 226}
)
_AGENT = code_validator(AgentInstallationStatus, {"yet to install": 21})
_PLATFORM = code_validator(Platform, {"macos": 2, "mac os": 2, "osx": 2})

SeverityCode = Annotated[Severity | None, _SEV[0], _SEV[1]]
InstallStatusCode = Annotated[InstallStatus | None, _INSTALL[0], _INSTALL[1]]
_DCAPI_INSTALL = code_validator(
    InstallStatus,
    {"failed to install": 206, "installation failed": 206, "not installed": 202},
    {203: 206},
)
#: ``patch_status`` of the dcapi threat reports: 203 is "Failed" there (essential-eight.md
#: §6), 206 in the legacy API (pmp-api.md §5b); both are stored as 206.
DcapiInstallStatusCode = Annotated[InstallStatus | None, _DCAPI_INSTALL[0], _DCAPI_INSTALL[1]]
ApprovalCode = Annotated[ApprovalStatus | None, _APPROVAL[0], _APPROVAL[1]]
HealthCode = Annotated[HealthStatus | None, _HEALTH[0], _HEALTH[1]]
LiveStatusCode = Annotated[LiveStatus | None, _LIVE[0], _LIVE[1]]
ScanStatusCode = Annotated[ScanStatus | None, _SCAN[0], _SCAN[1]]
AgentStatusCode = Annotated[AgentInstallationStatus | None, _AGENT[0], _AGENT[1]]
PlatformCode = Annotated[Platform | None, _PLATFORM[0], _PLATFORM[1]]
