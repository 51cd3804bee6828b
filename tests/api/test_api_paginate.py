"""Pagination: streaming, page-size negotiation, and every guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from api_helpers import BASE, Spec, envelope, make_client

from pmp_intel.api.errors import Action, ErrorType
from pmp_intel.api.events import AttemptEvent, PagingAnomaly, PagingEvent
from pmp_intel.api.paginate import Page, PageFailure, PagingStyle, infer_limit

URL = BASE + "/api/1.4/patch/things"
Handler = Callable[[int, int | None, dict[str, list[str]]], tuple[int, dict[str, str], str]]


def serve(handler: Callable[[int, int | None, dict[str, list[str]]], str | tuple[int, str]],
          url: str = URL) -> list[dict[str, list[str]]]:
    """Register a callback answering by page number; returns the list of queries seen."""
    seen: list[dict[str, list[str]]] = []

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        seen.append(query)
        page = int(query.get("page", ["1"])[0])
        size = query.get("pagelimit") or query.get("pageLimit")
        answer = handler(page, int(size[0]) if size else None, query)
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return status, {"Content-Type": "text/plain;charset=UTF-8"}, body

    responses.add_callback(responses.GET, url, callback=callback)
    return seen


def dataset(total: int) -> list[dict[str, Any]]:
    return [{"id": i} for i in range(total)]


def honouring(total: int, cap: int | None = None, echo: bool = True):  # type: ignore[no-untyped-def]
    data = dataset(total)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        limit = min(size or 25, cap) if cap else (size or 25)
        chunk = data[(page - 1) * limit: page * limit]
        return envelope("things", chunk, total=total, limit=limit if echo else None,
                        page=page)

    return handler


def ignoring(total: int, echo: bool = True):  # type: ignore[no-untyped-def]
    data = dataset(total)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        chunk = data[(page - 1) * 25: page * 25]
        return envelope("things", chunk, total=total, limit=25 if echo else None, page=page)

    return handler


def pages(outcomes: list[Any]) -> list[Page]:
    return [o for o in outcomes if isinstance(o, Page)]


def anomalies(events: Any) -> list[PagingAnomaly]:
    return [e.anomaly for e in events.of(PagingEvent)]


@responses.activate
def test_large_pages_when_the_server_honours_pagelimit() -> None:
    seen = serve(honouring(2500))
    client, events, _ = make_client()
    result = list(client.iter_pages(Spec()))
    assert [len(p.records) for p in pages(result)] == [1000, 1000, 500]
    assert [p.last_page for p in pages(result)] == [3, 3, 3]
    assert [q["pagelimit"] for q in seen] == [["1000"]] * 3  # lower-case pagelimit
    assert anomalies(events) == []


@responses.activate
def test_server_echo_of_a_capped_limit_is_trusted() -> None:
    serve(honouring(250, cap=100))
    client, events, _ = make_client()
    result = pages(list(client.iter_pages(Spec())))
    assert [len(p.records) for p in result] == [100, 100, 50]
    assert {p.limit for p in result} == {100}
    assert anomalies(events) == [PagingAnomaly.LIMIT_IGNORED]


@pytest.mark.parametrize(("total", "cap"), [(1200, 500), (250, 100), (2500, 1000)])
@responses.activate
def test_capped_pagelimit_without_echo_is_read_to_the_total(total: int, cap: int) -> None:
    """PMP's doc samples show only ``total`` and the list (pmp-api.md §3a) and whether the
    server caps ``pagelimit`` is uncertain (§7): a capped first page must not look like the
    last one."""
    serve(honouring(total, cap=cap, echo=False))
    client, events, _ = make_client()
    result = pages(list(client.iter_pages(Spec())))
    assert sum(len(p.records) for p in result) == total
    assert [p.records[0]["id"] for p in result] == list(range(0, total, cap))
    assert PagingAnomaly.COUNT_MISMATCH not in anomalies(events)


@responses.activate
def test_ignored_pagelimit_without_echo_falls_back_to_25() -> None:
    seen = serve(ignoring(60, echo=False))
    client, events, _ = make_client()
    result = pages(list(client.iter_pages(Spec())))
    assert [len(p.records) for p in result] == [25, 25, 10]
    assert len(seen) == 3  # the request count bounds the extraction
    assert sum(len(p.records) for p in result) == 60
    assert PagingAnomaly.LIMIT_IGNORED in anomalies(events)


def test_infer_limit() -> None:
    assert infer_limit(50, 3, 1000) == 50
    assert infer_limit(None, 500, 1000, total=1200) == 500  # capped, more to come
    assert infer_limit(None, 100, 1000, total=250) == 100
    assert infer_limit(None, 300, 1000, total=300) == 1000  # all of it: the size is moot
    assert infer_limit(None, 25, 1000) == 25
    assert infer_limit(None, 26, 1000) == 1000
    assert infer_limit(None, 1000, 1000) == 1000
    assert infer_limit(None, 7, 1000) == 25


@responses.activate
def test_pages_stream_one_at_a_time() -> None:
    seen = serve(ignoring(100))
    client, _, _ = make_client(read_ahead=False)
    iterator = client.iter_pages(Spec())
    first = next(iterator)
    assert isinstance(first, Page)
    assert len(seen) == 1
    next(iterator)
    assert len(seen) == 2


@responses.activate
def test_read_ahead_requests_one_page_ahead_and_waits_for_it_on_close() -> None:
    seen = serve(ignoring(100))
    client, events, _ = make_client()
    iterator = client.iter_pages(Spec())
    first = next(iterator)
    assert isinstance(first, Page)
    assert first.number == 1
    iterator.close()  # page 2 was already asked for; closing waits for its answer
    assert [q["page"] for q in seen] == [["1"], ["2"]]
    # the read-ahead attempt was reported before close() returned
    assert len(events.of(AttemptEvent)) == 2


@responses.activate
def test_read_ahead_yields_the_same_pages_in_order() -> None:
    serve(ignoring(100))
    client, _, _ = make_client()
    with_ahead = pages(list(client.iter_pages(Spec())))
    plain, _, _ = make_client(read_ahead=False)
    without = pages(list(plain.iter_pages(Spec())))
    assert [(p.number, p.raw) for p in with_ahead] == [(p.number, p.raw) for p in without]
    assert [p.number for p in with_ahead] == [1, 2, 3, 4]


@responses.activate
def test_resume_from_a_later_page() -> None:
    seen = serve(ignoring(100))
    client, _, _ = make_client()
    result = pages(list(client.iter_pages(Spec(), start_page=3)))
    assert [p.number for p in result] == [3, 4]
    assert [q["page"] for q in seen] == [["3"], ["4"]]


@responses.activate
def test_repeated_page_stops_an_endless_loop() -> None:
    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        return envelope("things", dataset(25), total=None, limit=None)  # ignores page, no total

    seen = serve(handler)
    client, events, _ = make_client()
    result = list(client.iter_pages(Spec()))
    assert len(pages(result)) == 1
    assert len(seen) == 2
    assert anomalies(events) == [PagingAnomaly.LIMIT_IGNORED, PagingAnomaly.REPEATED_PAGE]


def drifting(total: int, shifted: dict[int, int]):  # type: ignore[no-untyped-def]
    """Pages of 25; page p's first ``shifted[p]`` answers start that many records early."""
    data = dataset(total)
    left = dict(shifted)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        start = (page - 1) * 25
        if left.get(page):
            left[page] -= 1
            start -= 3
        return envelope("things", data[start: start + 25], total=total, limit=25, page=page)

    return handler


@pytest.mark.parametrize("read_ahead", [True, False])
@responses.activate
def test_a_page_sliding_back_is_retried_as_page_drift(read_ahead: bool) -> None:
    seen = serve(drifting(100, {3: 1}))
    client, events, _ = make_client(read_ahead=read_ahead)
    result = pages(list(client.iter_pages(Spec())))
    assert [r["id"] for p in result for r in p.raw] == list(range(100))  # nothing lost
    assert [q["page"] for q in seen] == [["1"], ["2"], ["3"], ["3"], ["4"]]
    drift = [e for e in events.of(AttemptEvent) if e.error_type is ErrorType.PAGE_DRIFT]
    assert [(e.page, e.action) for e in drift] == [(3, Action.BACKOFF_AND_RETRY)]


@responses.activate
def test_a_page_that_keeps_drifting_becomes_a_gap() -> None:
    serve(drifting(100, {2: 99}))
    client, _, _ = make_client(max_attempts=3)
    result = list(client.iter_pages(Spec()))
    failures = [o for o in result if isinstance(o, PageFailure)]
    assert [(f.number, f.error_type, f.attempts) for f in failures] == [
        (2, ErrorType.PAGE_DRIFT, 3)
    ]
    assert [p.number for p in pages(result)] == [1, 3, 4]  # page 3 is not compared with a gap


@responses.activate
def test_total_moving_between_pages_is_reported_and_replanned() -> None:
    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        total = 60 if page == 1 else 80
        data = dataset(total)
        return envelope("things", data[(page - 1) * 25: page * 25], total=total, limit=25)

    client, events, _ = make_client()
    serve(handler)
    result = pages(list(client.iter_pages(Spec())))
    assert [p.number for p in result] == [1, 2, 3, 4]
    changed = [e for e in events.of(PagingEvent) if e.anomaly is PagingAnomaly.TOTAL_CHANGED]
    assert [(e.page, e.expected, e.observed) for e in changed] == [(2, 60, 80)]


@responses.activate
def test_empty_page_before_total_is_retried_then_a_gap_and_paging_goes_on() -> None:
    data = dataset(75)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        chunk = [] if page == 2 else data[(page - 1) * 25: page * 25]
        return envelope("things", chunk, total=75, limit=25)

    seen = serve(handler)
    client, events, clock = make_client()
    result = list(client.iter_pages(Spec()))
    assert [(type(o).__name__, o.number) for o in result] == [
        ("Page", 1), ("PageFailure", 2), ("Page", 3)]
    failure = result[1]
    assert isinstance(failure, PageFailure)
    assert (failure.error_type, failure.action, failure.attempts) == (
        ErrorType.EMPTY_PAGE, Action.GAP, 3)
    assert failure.last_page == 3
    assert not failure.stopped
    assert len(seen) == 5
    assert clock.sleeps == [0.5, 1.0]
    assert PagingAnomaly.EMPTY_BEFORE_TOTAL in anomalies(events)
    assert PagingAnomaly.COUNT_MISMATCH not in anomalies(events)  # a gap explains it


@responses.activate
def test_empty_page_recovers_when_the_throttle_passes() -> None:
    data = dataset(50)
    calls = {"n": 0}

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        calls["n"] += 1
        chunk = [] if calls["n"] == 2 else data[(page - 1) * 25: page * 25]
        return envelope("things", chunk, total=50, limit=25)

    serve(handler)
    client, _, _ = make_client()
    result = list(client.iter_pages(Spec()))
    assert all(isinstance(o, Page) for o in result)
    assert sum(len(o.records) for o in result) == 50
    assert result[1].attempts == 2


@responses.activate
def test_short_page_before_the_end_is_reported() -> None:
    data = dataset(75)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        chunk = data[(page - 1) * 25: page * 25]
        if page == 2:
            chunk = chunk[:20]
        return envelope("things", chunk, total=75, limit=25)

    serve(handler)
    client, events, _ = make_client()
    list(client.iter_pages(Spec()))
    short = [e for e in events.of(PagingEvent) if e.anomaly is PagingAnomaly.SHORT_PAGE]
    assert [(e.page, e.expected, e.observed) for e in short] == [(2, 25, 20)]
    assert PagingAnomaly.COUNT_MISMATCH in anomalies(events)


@responses.activate
def test_no_total_ends_on_a_short_or_empty_page() -> None:
    data = dataset(30)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        return envelope("things", data[(page - 1) * 25: page * 25], total=None, limit=25)

    serve(handler)
    client, _, _ = make_client()
    assert [len(p.records) for p in pages(list(client.iter_pages(Spec())))] == [25, 5]


@responses.activate
def test_page_cap() -> None:
    counter = {"n": 0}

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        counter["n"] += 1
        return envelope("things", [{"id": page * 100 + i} for i in range(25)], total=None,
                        limit=25)

    serve(handler)
    client, events, _ = make_client()
    result = list(client.iter_pages(Spec(), max_pages=4))
    assert len(result) == 4
    assert counter["n"] == 4
    assert anomalies(events)[-1] is PagingAnomaly.PAGE_CAP


@responses.activate
def test_first_page_failure_stops_and_says_so() -> None:
    serve(lambda page, size, q: (503, "busy"))
    client, _, _ = make_client()
    [failure] = list(client.iter_pages(Spec()))
    assert isinstance(failure, PageFailure)
    assert failure.stopped
    assert failure.last_page is None


@responses.activate
def test_consecutive_failures_stop_the_iteration() -> None:
    data = dataset(250)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str | tuple[int, str]:
        if page >= 2:
            return 500, "down"
        return envelope("things", data[:25], total=250, limit=25)

    serve(handler)
    client, _, _ = make_client()
    result = list(client.iter_pages(Spec()))
    failures = [o for o in result if isinstance(o, PageFailure)]
    assert [f.number for f in failures] == [2, 3, 4]
    assert failures[-1].stopped
    assert failures[-1].last_page == 10


@responses.activate
def test_dcapi_paging_uses_pageLimit_and_metadata() -> None:
    url = BASE + "/dcapi/threats/patches"
    data = dataset(230)

    def handler(page: int, size: int | None, query: dict[str, list[str]]) -> str:
        limit = size or 30
        chunk = data[(page - 1) * limit: page * limit]
        return json.dumps({"metadata": {"page": page, "pageLimit": limit, "totalRecords": 230,
                                        "totalPages": -(-230 // limit)},
                           "message_response": {"patches": chunk}, "status": "success"})

    seen = serve(handler, url)
    client, _, _ = make_client(page_limit=100)
    spec = Spec("dcapi_patches", "/dcapi/threats/patches", "patches", PagingStyle.DCAPI_PAGED)
    result = pages(list(client.iter_pages(spec)))
    assert [len(p.records) for p in result] == [100, 100, 30]
    assert seen[0]["pageLimit"] == ["100"]
    assert "pagelimit" not in seen[0]


@responses.activate
def test_fan_out_per_parent_in_order_with_bounded_concurrency() -> None:
    url = BASE + "/api/1.4/patch/systemreport"
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        resid = int(query["resid"][0])
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        try:
            records = [{"patch_id": resid * 10 + i} for i in range(resid % 3)]
            return 200, {}, envelope("systemreport", records, total=len(records), limit=25)
        finally:
            with lock:
                active["now"] -= 1

    responses.add_callback(responses.GET, url, callback=callback)
    client, _, _ = make_client(concurrency=3)
    spec = Spec("systemreport", "/api/1.4/patch/systemreport", "systemreport",
                PagingStyle.PER_SYSTEM, parent_param="resid")
    result = list(client.iter_fan_out(spec, range(1, 21)))
    assert [o.parent for o in result] == [str(i) for i in range(1, 21)]
    assert all(isinstance(o, Page) for o in result)
    assert sum(len(o.records) for o in result) == sum(i % 3 for i in range(1, 21))
    assert active["max"] <= 3
    with pytest.raises(ValueError, match="parent"):
        list(client.iter_pages(spec))


@responses.activate
def test_fan_out_stops_on_authentication_failure() -> None:
    url = BASE + "/api/1.4/patch/systemreport"
    responses.get(url, status=401)
    client, _, _ = make_client(concurrency=2)
    spec = Spec("systemreport", "/api/1.4/patch/systemreport", "systemreport",
                PagingStyle.PER_SYSTEM, parent_param="resid")
    from pmp_intel.api.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        list(client.iter_fan_out(spec, range(1, 50)))
    assert len(responses.calls) < 60
