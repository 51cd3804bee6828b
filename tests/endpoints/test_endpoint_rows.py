"""Every endpoint maps its records onto exactly the unified schema's columns."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from pmp_intel.endpoints import BUILTIN_ORDER, registry
from pmp_intel.endpoints.base import Endpoint
from pmp_intel.store.models import ENTITIES, ServerSummary
from pmp_intel.store.models.codes import InstallStatus

#: A representative wire record per endpoint (typed; stringly variants are derived).
SAMPLES: dict[str, dict[str, Any]] = {
    "summary": {"patch_summary": {"installed_patches": 3566, "applicable_patches": 5301,
                                  "new_patches": 34362, "missing_patches": 1735},
                "missing_patch_severity_summary": {"critical_count": 139, "important_count": 452,
                                                   "moderate_count": 549, "low_count": 60,
                                                   "unrated_count": 534, "total_count": 1734},
                "system_summary": {"total_systems": 3358, "healthy_systems": 1721,
                                   "moderately_vulnerable_systems": 308,
                                   "highly_vulnerable_systems": 1300,
                                   "health_unknown_systems": 29},
                "patch_scan_summary": {"scanned_systems": 3320, "unscanned_system_count": 38,
                                       "scan_success_count": 3295, "scan_failure_count": 25},
                "vulnerability_db_summary": {"last_db_update_status": "Success",
                                             "last_db_update_time": 1764052565661,
                                             "is_auto_db_update_disabled": True,
                                             "db_update_in_progress": False},
                "apd_summary": {"number_of_apd_tasks": 70}},
    "allsystems": {"resource_id": 95000011194313, "resource_name": "PC-1", "scan_status": 228,
                   "resource_health_status": 3, "agent_last_contact_time": 1553069591000,
                   "critical_patch_count": 2, "os_platform": 1, "total_ms_patches": 21,
                   "resourcetorebootdetails.reboot_req_status": True},
    "scandetails": {"resource_id": 7, "resource.name": "PC-7", "scan_status": 226,
                    "installation_status": 22, "agent_installed_dir": "C:\\x"},
    "allpatches": {"patch_id": 605857, "severity": 3, "status_id": 211, "installed": 1},
    "allpatchdetails": {"resource_id": 7, "affected_patch_status": 206, "patch_status": 0,
                        "install_error_code": 1603, "deploy_remarks": "Fatal error"},
    "systemreport": {"patch_id": 9110, "affected_patch_status": 201, "patch_status": 211,
                     "installed_time": 1695877950000, "deployment_status": 209},
    "supportedpatches": {"patch_id": 1, "update_id": 0, "patch_lang": "en", "is_superceded": 1},
    "installedpatches": {"patch_id": 2, "installed": 40},
    "missingpatches": {"patch_id": 3, "missing": 4, "failed": 1, "severity": "Critical"},
    "deploymentpolicies": {"template_id": 30001, "template_name": "Weekend", "first_name": "Ann",
                           "is_template_alive": True, "set_as_default": "false",
                           "scriptaction.platform_id": 1},
    "viewconfig": {"config_id": 6001, "collection_id": 9001, "total_target_count": 5,
                   "os_platform_name": "Windows", "collection_platform_id": 1},
    "healthpolicy": {"vulnerable": {"critical": "0", "important": "1", "moderate": "5",
                                    "low": "10"},
                     "highly_vulnerable": {"critical": "1", "important": "5", "moderate": "10",
                                           "low": "20"},
                     "consider_only_approved_patches": True},
    "approvalsettings": {"patch_approval": "Manual"},
    "dbupdatestatus": {"last_db_update_status": "Failed", "last_db_update_time": 1764052565661,
                       "next_db_update_time": 1764138965661},
    "apdtasks": {"task_name": "MyTask1", "total_target": "1", "task_id": "633",
                 "collection_status": "2", "task_modified_time": "1756191374069",
                 "scheduler_class_id": "--", "template_id": "--", "task_type": "18",
                 "first_name": "admin", "os_platform_id": "1", "remarks": "312"},
    "som_computers": {"resource_id": 5, "name": "PC-5", "domain_netbios_name": "CORP",
                      "installation_status": 22, "computer_live_status": 2,
                      "last_contact_time": 1695877950000, "agent_uninstalled_on": -1},
    "som_summary": {"total_computers": 10, "live_computers": 9},
    "som_remoteoffice": {"branch_office_id": 301, "branch_office_name": "Acme",
                         "customer_id": 11, "managed_computers": 40},
    "dcapi_patches": {"patch_id": 77, "patchname": "x.msu", "severity": "Critical",
                      "cve_ids": "CVE-2024-1111,CVE-2024-2222",
                      "vulnerabilities": [
                          {"cve_id": "CVE-2024-1111", "cvss_score": 9.8,
                           "cvss_severity": "CRITICAL", "published_time": 1695877950000},
                          {"cve_id": "cve-2024-2222", "cvss_score": "5.0"}]},
    "dcapi_systemreport": {"resource_id": 5, "resource_name": "PC-5", "patches": [
        {"patch_id": 77, "patchname": "x.msu", "patch_status": "Installed",
         "installed_time": 1695877950000},
        {"patch_id": 78, "patch_status": "Missing", "installed_time": "--"}]},
    "vulnerabilities": {"cve_id": "CVE-2023-0001", "cvss_score": "7.5", "patch_ids": "1, 2"},
    "deploymenttasks": {"task_id": 9, "task_name": "T"},
    "patchgroups": {"patch_group_id": 4, "patch_group_name": "Browsers"},
}

PARENTS = {"systemreport": "95000011194313", "allpatchdetails": "605857"}


def entity_columns(entity: str) -> set[str]:
    _, staging = ENTITIES[entity]
    mapper = sa_inspect(staging)
    fields_class = next(c for c in staging.__mro__ if c.__name__.endswith("Fields"))
    names = {c.key for c in mapper.column_attrs}
    staging_only = {"id", "endpoint", "parent_key", "page", "seq", "row_hash", "snapshot_id"}
    assert fields_class is not None
    return names - staging_only


def stringly(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stringly(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringly(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value is None else str(value)


def test_every_contract_name_is_registered_with_a_sample() -> None:
    assert set(registry.names()) >= set(BUILTIN_ORDER)
    assert set(SAMPLES) == set(BUILTIN_ORDER)


def test_defaults() -> None:
    off = {e.name for e in registry if not e.default_enabled}
    assert off == {"supportedpatches", "allpatchdetails"}
    assert {e.name for e in registry if e.optional} == {
        "vulnerabilities", "deploymenttasks", "patchgroups"}


@pytest.mark.parametrize("name", BUILTIN_ORDER)
@pytest.mark.parametrize("mode", ["typed", "stringly"])
def test_rows_use_exactly_schema_columns(name: str, mode: str) -> None:
    endpoint: Endpoint = registry.get(name)
    sample = SAMPLES[name] if mode == "typed" else stringly(SAMPLES[name])
    valid, invalid = endpoint.parse_records([sample])
    assert invalid == [], invalid
    [record] = valid
    if endpoint.entity is not None:
        assert endpoint.entity in ENTITIES
        assert endpoint.entity_columns <= entity_columns(endpoint.entity)
    rows = list(endpoint.rows(record, parent=PARENTS.get(name)))
    if endpoint.entity is None:
        assert rows == []
    keys_by_entity: dict[str, set[frozenset[str]]] = {}
    for entity, columns in rows:
        assert entity in ENTITIES
        assert set(columns) <= entity_columns(entity), set(columns) - entity_columns(entity)
        assert "extra" in columns
        keys_by_entity.setdefault(entity, set()).add(frozenset(columns))
    # Every row of one entity from one endpoint has the same keys (bulk inserts).
    assert all(len(shapes) == 1 for shapes in keys_by_entity.values())
    summary = endpoint.summary_columns(record)
    server_columns = {c.key for c in sa_inspect(ServerSummary).column_attrs}
    assert set(summary) <= server_columns


def test_allsystems_row_values() -> None:
    endpoint = registry.get("allsystems")
    [record], _ = endpoint.parse_records([stringly(SAMPLES["allsystems"])])
    [(entity, row)] = endpoint.rows(record)
    assert entity == "system"
    assert row["resource_id"] == 95000011194313
    assert row["scan_status"] == 228
    assert type(row["scan_status"]) is int
    assert row["reboot_required"] is True
    assert row["extra"] == {"total_ms_patches": "21"}
    assert set(row) == endpoint.entity_columns | {"extra"}


def test_systemreport_rows_take_the_resid_parent() -> None:
    endpoint = registry.get("systemreport")
    [record], _ = endpoint.parse_records([SAMPLES["systemreport"]])
    [(entity, row)] = endpoint.rows(record, parent="95000011194313")
    assert entity == "system_patch_state"
    assert (row["resource_id"], row["patch_id"], row["install_status"]) == (
        95000011194313, 9110, InstallStatus.INSTALLED)
    assert row["installed_time"].year == 2023


def test_allpatchdetails_rows_take_the_patchid_parent() -> None:
    endpoint = registry.get("allpatchdetails")
    [record], _ = endpoint.parse_records([SAMPLES["allpatchdetails"]])
    [(_, row)] = endpoint.rows(record, parent="605857")
    assert (row["resource_id"], row["patch_id"], row["install_status"]) == (7, 605857, 206)
    assert row["approval_status"] == 0
    assert row["install_error_code"] == 1603


def test_dcapi_patch_yields_vulnerabilities_and_links() -> None:
    endpoint = registry.get("dcapi_patches")
    [record], _ = endpoint.parse_records([SAMPLES["dcapi_patches"]])
    rows = list(endpoint.rows(record))
    links = [r for e, r in rows if e == "patch_vulnerability"]
    cves = [r for e, r in rows if e == "vulnerability"]
    assert [(r["patch_id"], r["cve_id"]) for r in links] == [
        (77, "CVE-2024-1111"), (77, "CVE-2024-2222")]
    assert [c["cvss_score"] for c in cves] == [9.8, 5.0]
    assert cves[0]["published_time"] is not None


def test_dcapi_patch_with_only_a_cve_id_string() -> None:
    endpoint = registry.get("dcapi_patches")
    [record], _ = endpoint.parse_records([{"patch_id": 1, "cve_ids": "CVE-2020-1 CVE-2021-12345"}])
    assert [c.cve_id for c in record.cves] == ["CVE-2021-12345"]  # CVE-2020-1 is malformed


def test_dcapi_systemreport_yields_one_state_per_patch() -> None:
    endpoint = registry.get("dcapi_systemreport")
    [record], _ = endpoint.parse_records([SAMPLES["dcapi_systemreport"]])
    rows = list(endpoint.rows(record))
    assert [(r["resource_id"], r["patch_id"], r["install_status"]) for _, r in rows] == [
        (5, 77, 201), (5, 78, 202)]


@pytest.mark.parametrize("staging", [False, True])
def test_dcapi_patch_status_203_is_failed(staging: bool) -> None:
    """The dcapi threat reports say 203 for "Failed" (essential-eight.md §6) where the
    legacy API says 206: one such patch must not throw its whole system away."""
    endpoint = registry.get("dcapi_systemreport")
    endpoint = endpoint.for_staging() if staging else endpoint
    system = {"resource_id": 5, "patches": [
        {"patch_id": 77, "patch_status": 201}, {"patch_id": 78, "patch_status": 203},
        {"patch_id": 79, "patch_status": "203"}]}
    records, invalid = endpoint.parse_records([system])
    assert invalid == []
    rows = records[0].rows if staging else list(endpoint.rows(records[0]))
    assert [(r["patch_id"], r["install_status"]) for _, r in rows] == [
        (77, 201), (78, InstallStatus.FAILED), (79, InstallStatus.FAILED)]
    legacy = registry.get("systemreport")
    state = {"resource_id": 5, "patch_id": 78, "affected_patch_status": 203}
    _, refused = legacy.parse_records([state])
    assert ["203" in r.errors for r in refused] == [True]  # the legacy API has no 203


def test_summary_columns() -> None:
    endpoint = registry.get("summary")
    [record], _ = endpoint.parse_records([stringly(SAMPLES["summary"])])
    columns = endpoint.summary_columns(record)
    assert columns["missing_patches"] == 1735
    assert columns["missing_total"] == 1734
    assert columns["unscanned_systems"] == 38
    assert columns["apd_tasks"] == 70
    assert columns["auto_db_update_disabled"] is True
    assert columns["last_db_update_time"].year == 2025
    assert columns["raw"]["summary"]["patch_summary"]["installed_patches"] == 3566


def test_health_policy_and_approval_setting_rows() -> None:
    health = registry.get("healthpolicy")
    [record], _ = health.parse_records([SAMPLES["healthpolicy"]])
    [(_, row)] = health.rows(record)
    assert row["vulnerable_important"] == 1
    assert row["highly_vulnerable_low"] == 20
    assert row["consider_only_approved_patches"] is True
    approval = registry.get("approvalsettings")
    [record], _ = approval.parse_records([{"patch_approval": "Manual"}])
    assert next(iter(approval.rows(record)))[1]["patch_approval"] == "manual"
    [odd], _ = approval.parse_records([{"patch_approval": "sometimes"}])
    [(_, row)] = approval.rows(odd)
    assert row["patch_approval"] is None
    assert row["extra"] == {"patch_approval_raw": "sometimes"}


def test_partial_endpoints_name_the_endpoint_they_complement() -> None:
    pairs = {e.name: e.complements for e in registry if e.complements}
    assert pairs == {"scandetails": "allsystems", "supportedpatches": "allpatches",
                     "dcapi_systemreport": "systemreport"}
    for name, primary in pairs.items():
        partial, full = registry.get(name), registry.get(primary)
        assert partial.entity == full.entity
        assert partial.entity_columns <= full.entity_columns
