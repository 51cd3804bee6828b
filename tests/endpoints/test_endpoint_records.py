"""Record models: normalisation at the boundary, extras kept, invalid records reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pmp_intel.endpoints import registry
from pmp_intel.endpoints.patches import PatchRecord
from pmp_intel.endpoints.states import SystemReportRecord
from pmp_intel.endpoints.systems import SystemRecord
from pmp_intel.store.models.codes import (
    ApprovalStatus,
    HealthStatus,
    InstallStatus,
    LiveStatus,
    Platform,
    ScanStatus,
    Severity,
)

# The real allpatches record of pmp-api.md §6b (EC cloud, every value a string).
REAL_ALLPATCHES = json.loads(
    '{"updated_time":"1695893262999","installed":"1","sqnumber":"117.0.5938.132",'
    '"patch_status_label":"--","bulletin_id":"MAC-012","patch_noreboot":"1",'
    '"update_name":"Third Party Updates","platform":"2","patch_released_time":"1695877950000",'
    '"patch_size":"200933507","status_id":"211","patch_uninstall_status":"0",'
    '"platform_name":"Mac","missing":"0","download_status":"--","first_name":"DC-SYSTEM-USER",'
    '"severity":"3","patch_id":"605857","patch_name":"googlechrome.dmg",'
    '"patch_description":"Google Chrome For Mac 117.0.5938.132","patch_status_image":"--",'
    '"vendor_name":"Google","superceded_by":"NA","severity_name":"dc.common.IMPORTANT",'
    '"failed":"0","status_label":"dc.common.APPROVED","status_image":"images/approved_icon.gif"}'
)


def test_string_typed_allpatches_record() -> None:
    record = PatchRecord.model_validate(REAL_ALLPATCHES)
    assert record.patch_id == 605857
    assert record.severity is Severity.IMPORTANT
    assert record.approval_status is ApprovalStatus.APPROVED
    assert record.platform is Platform.MAC
    assert record.patch_released_time == datetime(2023, 9, 28, 5, 12, 30, tzinfo=UTC)
    assert record.download_status is None
    assert record.superseded_by is None
    assert record.uninstall_supported is False
    assert record.patch_size == 200933507
    assert (record.installed, record.missing, record.failed) == (1, 0, 0)
    # Unknown fields are kept under their wire keys, not dropped.
    assert record.extra["sqnumber"] == "117.0.5938.132"
    assert record.extra["status_label"] == "dc.common.APPROVED"
    assert record.extra["severity_name"] == "dc.common.IMPORTANT"  # lost to "severity"


def test_typed_and_stringly_records_are_equal() -> None:
    typed = {"patch_id": 5, "severity": 4, "status_id": 0, "patch_released_time": 1695877950000,
             "patch_uninstall_status": 1, "is_superceded": 0}
    stringly = {k: str(v) for k, v in typed.items()}
    assert PatchRecord.model_validate(typed) == PatchRecord.model_validate(stringly)


def test_dotted_keys_become_attributes_and_sentinels_none() -> None:
    record = SystemRecord.model_validate({
        "resource.name": "PC-01", "resource_id": "95000011194313",
        "resource.domain_netbios_name": "CORP", "resource_health_status": "3",
        "computer_live_status": 1, "scan_status": "228", "installation_status": "22",
        "resourcetorebootdetails.reboot_req_status": "--", "agent_installed_on": 1548677081796,
        "last_scan_time": "--", "branchofficedetails.branch_office_id": "301",
        "patchstatusdefn.label": "dc.common.SCANNING_COMPLETED",
    })
    assert record.resource_name == "PC-01"
    assert record.domain_netbios_name == "CORP"
    assert record.resource_id == 95000011194313
    assert record.branch_office_id == 301
    assert record.resource_health_status is HealthStatus.HIGHLY_VULNERABLE
    assert record.computer_live_status is LiveStatus.LIVE
    assert record.scan_status is ScanStatus.SUCCESS
    assert record.reboot_required is None
    assert record.last_scan_time is None
    assert record.agent_installed_on is not None
    assert record.agent_installed_on.year == 2019
    assert record.extra == {"patchstatusdefn.label": "dc.common.SCANNING_COMPLETED"}


def test_plain_key_wins_over_dotted_and_alias() -> None:
    record = SystemRecord.model_validate({"resource_id": 1, "resource_name": "plain",
                                          "resource.name": "dotted", "computer_name": "alias"})
    assert record.resource_name == "plain"
    assert record.extra == {"resource.name": "dotted", "computer_name": "alias"}


def test_unknown_code_is_kept_in_extra_not_lost() -> None:
    record = PatchRecord.model_validate({"patch_id": 1, "severity": "7", "status_id": 210,
                                         "platform": "Solaris"})
    assert record.severity is None
    assert record.approval_status is None
    assert record.platform is None
    assert record.extra == {"severity": "7", "status_id": 210, "platform": "Solaris"}


def test_systemreport_state_needs_a_known_install_status() -> None:
    good = SystemReportRecord.model_validate({
        "patch_id": "9110", "affected_patch_status": "202", "patch_status": "211",
        "install_error_code": -1, "deployment_status": "209", "pmseverity.name": "Critical"})
    assert good.install_status is InstallStatus.MISSING
    assert good.approval_status is ApprovalStatus.APPROVED
    assert good.install_error_code is None
    assert good.severity is Severity.CRITICAL
    for bad in ({"patch_id": 1, "affected_patch_status": "203"},
                {"patch_id": 1, "affected_patch_status": "--"},
                {"affected_patch_status": 201}):
        with pytest.raises(ValueError):  # noqa: PT011 - pydantic ValidationError
            SystemReportRecord.model_validate(bad)


def test_parse_records_reports_invalid_ones_with_their_index() -> None:
    endpoint = registry.get("allpatches")
    raw: list[Any] = [{"patch_id": "1"}, {"patch_id": "abc"}, "not an object", {"update_id": 3}]
    valid, invalid = endpoint.parse_records(raw)
    assert [r.patch_id for r in valid] == [1]
    assert [i.index for i in invalid] == [1, 2, 3]
    assert "patch_id" in invalid[0].errors
    assert "abc" not in invalid[0].errors
    assert invalid[1].errors == "record is not a JSON object"


def test_records_are_immutable() -> None:
    record = PatchRecord.model_validate({"patch_id": 1})
    with pytest.raises(ValueError):  # noqa: PT011
        record.patch_id = 2  # type: ignore[misc]
