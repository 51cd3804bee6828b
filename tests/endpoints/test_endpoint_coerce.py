"""Boundary coercion: strings, sentinels, epoch ms, codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmp_intel.endpoints import coerce
from pmp_intel.endpoints.coerce import CodeOf, parse_code
from pmp_intel.store.models.codes import ApprovalStatus, InstallStatus, Severity


@pytest.mark.parametrize(
    ("value", "expected"),
    [("605857", 605857), (605857, 605857), ("  12 ", 12), ("3.0", 3), (True, 1), ("--", None),
     ("NA", None), ("", None), (None, None), (-1, None), ("-1", None), (0, 0), (-5, -5)],
)
def test_to_int(value: object, expected: int | None) -> None:
    assert coerce.to_int(value) == expected


@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, [1], float("inf")])
def test_to_int_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="integer"):
        coerce.to_int(value)


def test_to_str_and_float_and_bool() -> None:
    assert coerce.to_str("--") is None
    assert coerce.to_str("N/A") is None
    assert coerce.to_str(12) == "12"
    assert coerce.to_str(2.0) == "2"
    assert coerce.to_str(" x ") == "x"
    assert coerce.to_float("7.5") == 7.5
    assert coerce.to_float("--") is None
    assert [coerce.to_bool(v) for v in ("true", "False", 1, "0", "--", True)] == [
        True, False, True, False, None, True]
    with pytest.raises(ValueError, match="boolean"):
        coerce.to_bool("maybe")


def test_epoch_ms_and_seconds_become_aware_utc() -> None:
    expected = datetime(2023, 9, 28, 5, 12, 30, tzinfo=UTC)
    assert coerce.to_datetime("1695877950000") == expected
    assert coerce.to_datetime(1695877950000) == expected
    assert coerce.to_datetime(1695877950) == expected  # seconds (legacy fixtures)
    assert coerce.to_datetime("2023-09-28T05:12:30Z") == expected
    for absent in ("--", 0, -1, "0", None, "NA"):
        assert coerce.to_datetime(absent) is None
    with pytest.raises(ValueError, match="timestamp"):
        coerce.to_datetime("yesterday")


def test_codes_from_numbers_strings_and_labels() -> None:
    sev = CodeOf(Severity)
    assert parse_code(sev, "3") is Severity.IMPORTANT
    assert parse_code(sev, 4) is Severity.CRITICAL
    assert parse_code(sev, "dc.common.IMPORTANT") is Severity.IMPORTANT
    assert parse_code(sev, "Critical") is Severity.CRITICAL
    assert parse_code(sev, "--") is None
    with pytest.raises(ValueError, match="unknown"):
        parse_code(sev, 9)
    approval = CodeOf(ApprovalStatus, {"not approved": 0})
    assert parse_code(approval, "Not Approved") is ApprovalStatus.NOT_APPROVED
    assert parse_code(approval, "211") is ApprovalStatus.APPROVED
    assert parse_code(CodeOf(InstallStatus), "Failed") is InstallStatus.FAILED
