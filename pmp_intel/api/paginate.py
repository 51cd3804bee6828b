"""Paging styles, page objects and the page-number iterator with its guards.

:func:`iter_page_numbers` streams one page at a time (never the whole result). It asks for
large pages with lower-case ``pagelimit`` but trusts the ``limit`` the server echoes; when
there is no echo the page size is inferred from the first page: a first page shorter than
asked while ``total`` says more remain shows the size the server capped it to (25, PMP's
default, when the request was ignored). Guards, each reported as a
:class:`~pmp_intel.api.events.PagingEvent`:

* the same records as the previous page → stop (a server ignoring ``page`` would loop);
* ``total`` moved between pages → re-plan and go on;
* a page shorter than ``limit`` before the last page, or more records than ``total``;
* an empty page while ``total`` says more remain → retried by the fetcher as a suspected
  throttle, then a gap;
* a page that starts with records the previous page already held (the window slid back:
  its own last records would be lost) → retried as *page drift*, then a gap, so a
  snapshot never ends complete over records nobody read;
* a hard page cap when the server never says where the end is;
* at the end, records received ≠ ``total``.

With a ``read_ahead`` (:class:`~pmp_intel.api.readahead.ReadAhead`), the request for page
``n + 1`` is sent while page ``n`` is being validated and stored, whenever page ``n`` shows
that more pages follow: the server's time (and the network's) overlaps the client's work.
Pages still come out one at a time and in order, and the guards see them exactly as
without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from pmp_intel.api.envelope import Envelope, EnvelopeKind
from pmp_intel.api.errors import Action, ErrorType
from pmp_intel.api.events import PagingAnomaly, PagingEvent
from pmp_intel.api.readahead import ReadAhead

#: PMP's page size when ``pagelimit`` is absent or ignored (pmp-api.md §7).
DEFAULT_PAGE_SIZE = 25
#: Stop after this many pages when the server never reveals the end.
DEFAULT_MAX_PAGES = 100_000
#: Stop after this many failed pages in a row (the rest are reported as one failure).
DEFAULT_MAX_CONSECUTIVE_FAILURES = 3


class PagingStyle(StrEnum):
    """How an endpoint is read."""

    PAGED = "paged"  # page + pagelimit, total in message_response
    DCAPI_PAGED = "dcapi_paged"  # page + pageLimit, metadata.totalRecords/totalPages
    SINGLE = "single"  # one object, no paging
    PER_SYSTEM = "per_system"  # paged, once per system (resid)
    PER_PATCH = "per_patch"  # paged, once per patch (patchid)

    @property
    def envelope(self) -> EnvelopeKind:
        """The response shape of this style."""
        if self is PagingStyle.SINGLE:
            return EnvelopeKind.OBJECT
        if self is PagingStyle.DCAPI_PAGED:
            return EnvelopeKind.DCAPI
        return EnvelopeKind.LIST

    @property
    def page_size_param(self) -> str | None:
        """Query parameter naming the page size (``pagelimit``; ``pageLimit`` on dcapi)."""
        if self is PagingStyle.SINGLE:
            return None
        return "pageLimit" if self is PagingStyle.DCAPI_PAGED else "pagelimit"

    @property
    def fan_out(self) -> bool:
        """True for the per-system and per-patch styles."""
        return self in {PagingStyle.PER_SYSTEM, PagingStyle.PER_PATCH}


@dataclass(frozen=True)
class InvalidRecord:
    """A record that failed validation, kept with its position."""

    index: int
    raw: Any = field(repr=False)
    errors: str = ""


class EndpointSpec(Protocol):
    """What the client needs to know about an endpoint (implemented by
    :class:`pmp_intel.endpoints.base.Endpoint`)."""

    @property
    def name(self) -> str:
        """Registry name, e.g. ``allsystems``."""
        ...

    @property
    def url_path(self) -> str:
        """Path below the base URL, e.g. ``/api/1.4/patch/allsystems``."""
        ...

    @property
    def record_keys(self) -> tuple[str, ...]:
        """List or object key(s) in ``message_response``, looked up case-insensitively."""
        ...

    @property
    def paging(self) -> PagingStyle:
        """The paging style."""
        ...

    @property
    def optional(self) -> bool:
        """True when a 404 means "not supported by this server"."""
        ...

    @property
    def parent_param(self) -> str | None:
        """Query parameter carrying the fan-out parent (``resid`` / ``patchid``)."""
        ...

    def parse_records(self, raw: list[Any]) -> tuple[list[Any], list[InvalidRecord]]:
        """Validate raw records into models; invalid ones are returned, not dropped."""
        ...


@dataclass(frozen=True)
class Page:
    """One page of records."""

    endpoint: str
    number: int
    parent: str | None
    #: Validated records (pydantic models for registered endpoints). Not in the repr: a
    #: logged page never dumps its data.
    records: list[Any] = field(repr=False)
    #: The wire records, as sent.
    raw: list[Any] = field(repr=False)
    invalid: list[InvalidRecord] = field(default_factory=list, repr=False)
    total: int | None = None
    limit: int | None = None
    #: The last page number as planned after this page (None when unknown).
    last_page: int | None = None
    attempts: int = 1

    ok = True


@dataclass(frozen=True)
class PageFailure:
    """A page (or a whole optional endpoint) that could not be read: a gap to record."""

    endpoint: str
    number: int
    parent: str | None
    error_type: ErrorType
    action: Action
    http_status: int | None = None
    attempts: int = 0
    sample: str = ""
    detail: str = ""
    #: The planned last page when known: pages ``number+1 .. last_page`` are still owed.
    last_page: int | None = None
    #: True when the iterator stopped after this failure (pages after it were not tried).
    stopped: bool = False

    ok = False

    @property
    def not_supported(self) -> bool:
        """True when the server does not offer this (optional) endpoint."""
        return self.action is Action.NOT_SUPPORTED


PageOutcome = Page | PageFailure


@dataclass(frozen=True)
class Fetched:
    """A successful fetch: the envelope and how many attempts it took."""

    envelope: Envelope
    attempts: int


#: ``fetch(page_number, params, validate)`` → a :class:`Fetched` or a :class:`PageFailure`.
Fetch = Callable[
    [int, Mapping[str, Any], Callable[[Envelope], ErrorType | None]], "Fetched | PageFailure"
]


def page_fingerprint(records: list[Any]) -> tuple[int, Any, Any]:
    """What identifies a page's records for the repeated-page guard: their count and the
    first and last records (a server that ignores ``page`` repeats them all; consecutive
    real pages never share both ends)."""
    if not records:
        return (0, None, None)
    return (len(records), records[0], records[-1])


@dataclass
class _Plan:
    requested: int
    limit: int | None = None
    total: int | None = None
    first_total: int | None = None
    total_pages: int | None = None
    received: int = 0

    @property
    def last_page(self) -> int | None:
        if self.total_pages is not None:
            return max(1, self.total_pages)
        if self.total is None or not self.limit:
            return None
        return max(1, math.ceil(self.total / self.limit))


def infer_limit(echoed: int | None, received: int, requested: int, total: int | None = None) -> int:
    """The page size in force: the server's echo, else inferred from the first page and
    its ``total``: a page shorter than asked while ``total`` says more remain shows the size
    the server capped (or defaulted) it to."""
    if echoed is not None and echoed > 0:
        return echoed
    if received == requested:
        return requested
    if total is not None and 0 < received < total:
        return received
    if received > DEFAULT_PAGE_SIZE:
        return requested
    return DEFAULT_PAGE_SIZE


def iter_page_numbers(
    *,
    endpoint: str,
    parent: str | None,
    fetch: Fetch,
    make_page: Callable[[int, Envelope, int, int | None, int | None], Page],
    report: Callable[[PagingEvent], None],
    params: Mapping[str, Any],
    page_param: str = "page",
    size_param: str | None = "pagelimit",
    page_size: int = 1000,
    start_page: int = 1,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    read_ahead: ReadAhead[Fetched | PageFailure] | None = None,
) -> Iterator[PageOutcome]:
    """Yield pages ``start_page, start_page+1, …`` until the end, guarding as described in
    the module docstring. ``make_page(number, envelope, attempts, limit, last_page)`` builds
    the :class:`Page` (it validates records); ``read_ahead`` fetches the next page while
    the caller works on this one."""
    plan = _Plan(requested=page_size)
    previous: tuple[int, Any, Any] | None = None
    #: The records of the last page received (for the drift check of the next one).
    before: list[Any] | None = None
    failures_in_row = 0
    any_failure = False
    number = start_page

    def anomaly(
        kind: PagingAnomaly, expected: int | None, observed: int | None, detail: str = ""
    ) -> None:
        report(PagingEvent(endpoint, parent, number, kind, expected, observed, detail))

    def validator(
        page: int, before: list[Any] | None = None
    ) -> Callable[[Envelope], ErrorType | None]:
        """Checks of page ``page``'s answer; ``before``: the records of the page before."""

        def validate(envelope: Envelope) -> ErrorType | None:
            records = envelope.records
            if records and before and records[0] in before:
                # the same page again is the repeated-page guard's (the server ignores
                # ``page``); a partial overlap means the window slid back
                same = page_fingerprint(records) == page_fingerprint(before)
                return None if same else ErrorType.PAGE_DRIFT
            if records or envelope.total is None:
                return None
            echoed = envelope.limit if envelope.limit and envelope.limit > 0 else None
            limit = plan.limit or echoed
            if page == 1 and envelope.total > 0:
                return ErrorType.EMPTY_PAGE
            if limit is not None and (page - 1) * limit < envelope.total:
                return ErrorType.EMPTY_PAGE
            return None

        return validate

    def request(page: int, before: list[Any] | None = None) -> Fetched | PageFailure:
        query = dict(params)
        query[page_param] = page
        if size_param:
            query[size_param] = page_size
        return fetch(page, query, validator(page, before))

    while True:
        if number - start_page >= max_pages:
            anomaly(PagingAnomaly.PAGE_CAP, max_pages, number - start_page)
            return
        ahead = read_ahead.take(number) if read_ahead is not None else None
        outcome = ahead.result() if ahead is not None else request(number, before)
        if isinstance(outcome, PageFailure):
            any_failure = True
            failures_in_row += 1
            last = plan.last_page
            if outcome.error_type is ErrorType.EMPTY_PAGE:
                anomaly(PagingAnomaly.EMPTY_BEFORE_TOTAL, plan.total, 0)
            stop = (
                outcome.not_supported
                or last is None
                or number >= last
                or failures_in_row >= max_consecutive_failures
            )
            yield PageFailure(
                endpoint=outcome.endpoint,
                number=number,
                parent=parent,
                error_type=outcome.error_type,
                action=outcome.action,
                http_status=outcome.http_status,
                attempts=outcome.attempts,
                sample=outcome.sample,
                detail=outcome.detail,
                last_page=last,
                stopped=stop and (last is None or number < last),
            )
            if stop:
                return
            before = None  # the page after a gap has no neighbour to compare with
            number += 1
            continue
        failures_in_row = 0
        envelope = outcome.envelope
        count = len(envelope.records)
        fingerprint = page_fingerprint(envelope.records)
        if count and fingerprint == previous:
            anomaly(
                PagingAnomaly.REPEATED_PAGE,
                None,
                count,
                "the server sent the previous page again; stopping",
            )
            return
        previous = fingerprint
        if envelope.limit is not None and envelope.limit > 0:
            if plan.limit is None and envelope.limit < page_size and size_param:
                anomaly(
                    PagingAnomaly.LIMIT_IGNORED,
                    page_size,
                    envelope.limit,
                    "the server capped or ignored the requested page size",
                )
            plan.limit = envelope.limit
        elif plan.limit is None:
            plan.limit = infer_limit(None, count, page_size, envelope.total)
            if plan.limit < page_size and size_param and count >= plan.limit:
                anomaly(PagingAnomaly.LIMIT_IGNORED, page_size, plan.limit)
        if envelope.total is not None:
            if plan.first_total is None:
                plan.first_total = envelope.total
            elif envelope.total != plan.total:
                anomaly(
                    PagingAnomaly.TOTAL_CHANGED,
                    plan.total,
                    envelope.total,
                    "total moved between pages; re-planned",
                )
            plan.total = envelope.total
        if envelope.total_pages is not None:
            plan.total_pages = envelope.total_pages
        plan.received += count
        last = plan.last_page
        if last is not None and number < last and count < (plan.limit or 0):
            anomaly(PagingAnomaly.SHORT_PAGE, plan.limit, count)
        if plan.total is not None and start_page == 1 and plan.received > plan.total:
            anomaly(PagingAnomaly.OVER_TOTAL, plan.total, plan.received)
        if (
            read_ahead is not None
            and last is not None
            and number < last
            and number + 1 - start_page < max_pages
        ):
            read_ahead.start(number + 1, partial(request, number + 1, envelope.records))
        before = envelope.records
        page = make_page(number, envelope, outcome.attempts, plan.limit, last)
        del envelope, outcome
        yield page
        del page
        if last is not None:
            done = number >= last
        else:
            # No total: the end is an empty or short page.
            done = count == 0 or (plan.limit is not None and count < plan.limit)
        if done:
            if (
                start_page == 1
                and not any_failure
                and plan.total is not None
                and plan.received != plan.total
            ):
                anomaly(PagingAnomaly.COUNT_MISMATCH, plan.total, plan.received)
            return
        number += 1
