"""Envelopes, paging, filters, modes and errors against pmp-api.md §3-§7."""

from __future__ import annotations

import json

import pytest
from sim_helpers import api, get, make_app

from pmp_intel.testing import ENDPOINTS, SimulatorApp


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app(systems=120, seed=3)


def test_list_envelope_is_exact(app: SimulatorApp) -> None:
    status, body = get(app, api("allpatches"))
    assert status == 200
    assert list(body) == ["message_type", "message_response", "message_version", "status"]
    assert body["message_type"] == "allpatches"
    assert body["status"] == "success"
    assert body["message_version"] == "1.4"
    response = body["message_response"]
    assert list(response) == ["total", "allpatches", "limit", "page"]
    assert (response["limit"], response["page"], len(response["allpatches"])) == (25, 1, 25)
    assert isinstance(response["total"], int)
    assert response["total"] > 25


def test_object_envelope_and_summary_agree_with_detail(app: SimulatorApp) -> None:
    status, body = get(app, api("summary"))
    summary = body["message_response"]["summary"]
    assert status == 200
    assert "total" not in body["message_response"]
    systems = list(app.listing_records("allsystems", {}))
    health = [sum(1 for s in systems if s["resource_health_status"] == h) for h in range(4)]
    ss = summary["system_summary"]
    assert ss["total_systems"] == len(systems) == app.listing_total("allsystems", {})
    assert [
        ss["health_unknown_systems"],
        ss["healthy_systems"],
        ss["moderately_vulnerable_systems"],
        ss["highly_vulnerable_systems"],
    ] == health
    ps = summary["patch_summary"]
    assert ps["applicable_patches"] == app.listing_total("allpatches", {})
    assert ps["missing_patches"] == app.listing_total("missingpatches", {})
    assert ps["installed_patches"] == app.listing_total("installedpatches", {})
    missing = list(app.listing_records("missingpatches", {}))
    sev = summary["missing_patch_severity_summary"]
    assert sev["critical_count"] == sum(1 for m in missing if m["severity"] == 4)
    assert sev["total_count"] == len(missing)
    scanned = sum(1 for s in systems if s["scan_status"] != 229)
    assert summary["patch_scan_summary"]["scanned_systems"] == scanned
    assert summary["apd_summary"]["number_of_apd_tasks"] == app.listing_total("apdtasks", {})


def test_per_system_counts_agree_with_systemreport(app: SimulatorApp) -> None:
    system = next(s for s in app.listing_records("allsystems", {}) if s["scan_status"] == 228)
    rows = list(app.listing_records("systemreport", {"resid": str(system["resource_id"])}))
    missing = [r for r in rows if r["affected_patch_status"] in (202, 206)]
    assert len(rows) == sum(system[f"total_{c}_patches"] for c in ("ms", "tp", "driver", "bios"))
    assert system["critical_patch_count"] == sum(1 for r in missing if r["severity"] == 4)
    installed = [r["installed_time"] for r in rows if r["affected_patch_status"] == 201]
    assert system["last_patched_time"] == max(installed, default=0)


def test_allpatches_sorted_newest_first_with_counts(app: SimulatorApp) -> None:
    patches = list(app.listing_records("allpatches", {}))
    times = [p["patch_released_time"] for p in patches]
    assert times == sorted(times, reverse=True)
    patch = patches[0]
    details = list(app.listing_records("allpatchdetails", {"patchid": str(patch["patch_id"])}))
    statuses = [d["affected_patch_status"] for d in details]
    assert [statuses.count(201), statuses.count(202), statuses.count(206)] == [
        patch["installed"],
        patch["missing"],
        patch["failed"],
    ]


def test_paging_pagelimit_cap_and_past_the_end(app: SimulatorApp) -> None:
    total = app.listing_total("allsystems", {})
    _, body = get(app, api("allsystems"), pagelimit=50, page=2)
    assert (body["message_response"]["limit"], len(body["message_response"]["allsystems"])) == (
        50,
        50,
    )
    _, body = get(app, api("allsystems"), pagelimit=5000)
    assert body["message_response"]["limit"] == 1000  # page_cap
    _, body = get(app, api("allsystems"), pageLimit=100, limit=100)
    assert body["message_response"]["limit"] == 25  # camelCase and limit are ignored
    _, body = get(app, api("allsystems"), page=99)
    assert body["message_response"]["allsystems"] == []
    assert body["message_response"]["total"] == total
    _, body = get(app, api("allsystems"), pagelimit=0)
    assert body["message_response"]["allsystems"] == []  # C2: 0 returns nothing
    pages = [
        get(app, api("allsystems"), page=p)[1]["message_response"]["allsystems"]
        for p in range(1, total // 25 + 2)
    ]
    ids = [r["resource_id"] for page in pages for r in page]
    assert ids == [r["resource_id"] for r in app.listing_records("allsystems", {})]


def test_fixed_page_size_mode_ignores_pagelimit() -> None:
    fixed = make_app(pagelimit_mode="fixed")
    _, body = get(fixed, api("allsystems"), pagelimit=500)
    assert body["message_response"]["limit"] == 25
    assert len(body["message_response"]["allsystems"]) == 25


def test_stringly_mode_sends_every_record_value_as_a_string() -> None:
    stringly = make_app(stringly=True, numbers_as_strings=True)
    _, body = get(stringly, api("allsystems"))
    record = body["message_response"]["allsystems"][0]
    assert all(isinstance(v, str) for v in record.values())
    assert body["message_response"]["total"] == str(stringly.listing_total("allsystems", {}))
    _, typed = get(make_app(), api("allsystems"))
    assert isinstance(typed["message_response"]["allsystems"][0]["resource_id"], int)


def test_sentinels_dotted_keys_and_labels(app: SimulatorApp) -> None:
    scan = next(iter(app.listing_records("scandetails", {})))
    assert {"resource.name", "pmreshealthstatus.resource_id", "patchstatusdefn.label"} <= set(scan)
    patches = list(app.listing_records("allpatches", {}))
    assert any(p["superceded_by"] == "NA" for p in patches)
    assert all(p["ro_success_count"] == "--" for p in patches)
    assert {p["severity_name"] for p in patches} <= {
        "dc.common.UNRATED",
        "dc.common.LOW",
        "dc.common.MODERATE",
        "dc.common.IMPORTANT",
        "dc.common.CRITICAL",
    }
    rows = [
        r
        for s in list(app.listing_records("allsystems", {}))[:10]
        for r in app.listing_records("systemreport", {"resid": str(s["resource_id"])})
    ]
    assert any(r["install_error_code"] == -1 for r in rows)
    assert any(r["installed_time"] == "--" for r in rows)


def test_filters_and_search(app: SimulatorApp) -> None:
    systems = list(app.listing_records("allsystems", {}))
    highly = [s for s in systems if s["resource_health_status"] == 3]
    _, body = get(app, api("allsystems"), healthfilter=3, pagelimit=1000)
    assert [s["resource_id"] for s in body["message_response"]["allsystems"]] == [
        s["resource_id"] for s in highly
    ]
    office = systems[0]["branch_office_name"]
    _, body = get(app, api("allsystems"), branchofficefilter=office)  # urlencode: space → +
    assert body["message_response"]["total"] == sum(
        1 for s in systems if s["branch_office_name"] == office
    )
    name = systems[5]["resource_name"]
    _, body = get(
        app,
        api("allsystems"),
        searchtype="resource_name",
        searchcolumn="resource_name",
        searchvalue=name.lower(),
    )
    assert [s["resource_name"] for s in body["message_response"]["allsystems"]] == [name]
    _, body = get(app, api("allpatches"), severityfilter=4, pagelimit=1000)
    assert {p["severity"] for p in body["message_response"]["allpatches"]} == {4}
    _, body = get(app, api("allpatches"), platformfilter="Mac", pagelimit=1000)
    assert {p["platform_name"] for p in body["message_response"]["allpatches"]} == {"Mac"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (api("systemreport"), {}),
        (api("allpatchdetails"), {"patchid": "12"}),
        (api("systemreport"), {"resid": "999"}),
        (api("allsystems"), {"page": "abc"}),
        (api("allsystems"), {"healthfilter": "9"}),
        (api("allsystems"), {"searchtype": "a", "searchcolumn": "b", "searchvalue": "c"}),
    ],
)
def test_bad_requests_answer_200_with_an_error_envelope(
    app: SimulatorApp, path: str, params: dict[str, str]
) -> None:
    status, body = get(app, path, **params)
    assert status == 200
    assert body["status"] == "error"
    assert body["error_code"]
    assert body["error_description"]


def test_content_type_headers_and_version_echo(app: SimulatorApp) -> None:
    response = app.handle("GET", "/api/1.3/patch/apdTaskListdetails", "", None)
    body = json.loads(response.body)
    assert response.content_type == "text/plain;charset=UTF-8"
    assert ("Server", "ZGS") in response.headers
    assert body["message_type"] == "apdTaskListdetails"
    assert body["message_version"] == "1.3"
    tasks = body["message_response"]["apdtasklistdetails"]
    assert tasks
    assert all(isinstance(v, str) for v in tasks[0].values())


def test_optional_endpoints_404_unless_switched_on(app: SimulatorApp) -> None:
    for name in ("vulnerabilities", "deploymenttasks", "patchgroups"):
        assert get(app, api(name))[0] == 404
        status, body = get(make_app(optional_endpoints=(name,)), api(name))
        assert status == 200
        assert body["message_response"][name]
    assert get(app, "/api/1.4/systems/all")[0] == 404
    assert get(make_app(unknown_path="html"), "/api/1.4/systems/all")[1].startswith("<!DOCTYPE")


def test_dcapi_envelope_and_page_limit() -> None:
    app = make_app(dcapi_default_page_limit=30)
    status, body = get(app, "/dcapi/threats/systemreport/patches")
    meta = body["metadata"]
    assert status == 200
    assert body["status"] == "success"
    assert meta["pageLimit"] == 30
    assert meta["totalRecords"] == app.listing_total("dcapi_systemreport", {})
    assert meta["totalPages"] == -(-meta["totalRecords"] // 30)
    assert len(body["message_response"]["systemreport"]) == 30
    _, body = get(app, "/dcapi/threats/patches", pageLimit=1000, pagelimit=5)
    patches = body["message_response"]["patches"]
    assert body["metadata"]["pageLimit"] == 1000
    secure = [p for p in patches if p["vulnerabilities"]]
    assert secure
    assert all(0 < v["cvss_score"] <= 10 for p in secure for v in p["vulnerabilities"])
    assert get(app, "/dcapi/threats/patches", pageLimit=1001)[0] == 400


def test_every_registry_endpoint_answers(app: SimulatorApp) -> None:
    system = next(iter(app.listing_records("allsystems", {})))["resource_id"]
    patch = next(iter(app.listing_records("allpatches", {})))["patch_id"]
    everything = make_app(optional_endpoints=("vulnerabilities", "deploymenttasks", "patchgroups"))
    for name, spec in ENDPOINTS.items():
        params = (
            {"resid": system}
            if name == "systemreport"
            else ({"patchid": patch} if name == "allpatchdetails" else {})
        )
        status, body = get(everything, spec.path, **params)
        assert status == 200, name
        assert body["status"] == "success", name
    assert everything.errors == []
