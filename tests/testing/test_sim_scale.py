"""Scale: a 100,000-system estate streams without materialising, and pages are cheap."""

from __future__ import annotations

import time
import tracemalloc

from sim_helpers import api, get

from pmp_intel.testing import Estate, EstateConfig, SimulatorApp, SimulatorSettings


def test_100k_systems_page_through_in_bounded_memory() -> None:
    estate = Estate(EstateConfig(systems=100_000, seed=1))
    app = SimulatorApp(estate, SimulatorSettings(auth="none"))
    path = "/api/1.4/som/computers"
    seen, last_id, page = 0, 0, 1
    while True:  # the whole estate, page by page
        status, body = get(app, path, page=page, pagelimit=1000)
        records = body["message_response"]["computers"]
        if not records:
            break
        assert status == 200
        seen += len(records)
        managed = [r["resource_id"] for r in records if r["installation_status"] == 22]
        assert managed == sorted(managed)
        assert not managed or managed[0] > last_id
        last_id = managed[-1] if managed else last_id
        page += 1
    assert seen == body["message_response"]["total"] == 100_000 + estate.unmanaged_count()
    # Tracing every allocation is ~10x slower, so trace a spread of pages: the peak stays at
    # the size of a page, however far into the estate the pages are.
    tracemalloc.start()
    try:
        for traced in (1, 25, 50, 75, 100):
            assert get(app, path, page=traced, pagelimit=1000)[0] == 200
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert estate._system_cache.cache_info().currsize <= 8_192  # bounded, not 100,000
    # The patch-heavy endpoints are random access too: the last page costs one page of work.
    status, body = get(app, api("allsystems"), page=100, pagelimit=1000)
    systems = body["message_response"]["allsystems"]
    assert status == 200
    assert len(systems) == 1000
    assert body["message_response"]["total"] == 100_000
    assert systems[-1]["resource_id"] == estate.resource_id(99_999)
    assert len(estate._states) <= 4_096


def test_a_default_page_costs_well_under_a_millisecond(default_estate: Estate) -> None:
    app = SimulatorApp(default_estate, SimulatorSettings(auth="none"))
    for warm in range(1, 6):  # first touches build the per-version caches
        get(app, api("allsystems"), page=warm)
        get(app, api("allpatches"), page=warm)
    app.request_log.clear()
    for page in range(10, 60):
        get(app, api("allpatches"), page=page)
        get(app, api("scandetails"), page=page)
    median = sorted(r.elapsed_s for r in app.request_log)[len(app.request_log) // 2]
    assert median < 0.003, f"median {median * 1000:.2f} ms per 25-record page"
    started = time.perf_counter()
    status, body = get(app, api("allpatches"), pagelimit=1000, page=2)
    assert status == 200
    assert len(body["message_response"]["allpatches"]) == 1000
    assert time.perf_counter() - started < 0.25
