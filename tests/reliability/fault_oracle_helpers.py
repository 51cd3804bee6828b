"""What an extraction under injected faults should have done, worked out from the simulator's
request log alone (never from the extractor's own records).

The simulator logs every request with the fault it injected. Grouping a run's log by request
identity (endpoint and parameters) gives each page's sequence of answers; replaying that
sequence through the resilience rules of design.md §4 says whether the page was recovered,
became a gap (and with which error type, HTTP status and number of attempts), or ended the
run (three consecutive 401 answers). The fault-matrix tests compare the database with that.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmp_intel.testing import SimulatedPMP
from pmp_intel.testing.app import RequestRecord
from pmp_intel.testing.endpoints import ENDPOINTS
from pmp_intel.testing.faults import FAULT_KINDS

#: Faults whose answer still carries the page as asked (only later).
SERVED_FAULTS = frozenset({"latency"})
#: Faults answered 401 (the token is refreshed and the request retried at once).
UNAUTHORIZED_FAULTS = frozenset({"401", "expire"})
#: The gap a failing fault leaves when it is the page's last answer: (error type, HTTP status).
GAP_TYPES: dict[str, tuple[str, int | None]] = {
    "500": ("server_error", 500),
    "502": ("server_error", 502),
    "503": ("server_error", 503),
    "504": ("server_error", 504),
    "429": ("rate_limited", 429),
    "html": ("html_throttle", 200),
    "reset": ("connection_error", None),
    "timeout": ("timeout", None),
    "truncated": ("invalid_json", 200),
    "empty": ("invalid_json", 200),
    "emptylist": ("empty_page", 200),
    # A page after the first that starts early repeats records of the page before and drops
    # as many of its own: the client must notice the overlap and read the page again. The
    # error type is the one proposed for that check (it does not exist yet, see the report).
    "drift": ("page_drift", 200),
}
#: Attempts an error type may use (design.md §4: unparsable JSON is retried once).
TYPE_BUDGET = {"invalid_json": 2}
MAX_CONSECUTIVE_401 = 3
PAGING_PARAMS = ("page", "pagelimit", "pageLimit")
#: Query parameters that name a fan-out endpoint's parent.
PARENT_PARAMS = ("resid", "patchid")

assert set(GAP_TYPES) | SERVED_FAULTS | UNAUTHORIZED_FAULTS == set(FAULT_KINDS)

PageKey = tuple[str, int, str]  # endpoint, page, parent ("" when none)


@dataclass(frozen=True)
class ExpectedGap:
    """A page that should be an open gap: its last answer and how many attempts it took."""

    error_type: str
    http_status: int | None
    attempts: int


@dataclass
class Expectation:
    """Per-page verdicts for one run, derived from the request log."""

    recovered: set[PageKey] = field(default_factory=set)
    gaps: dict[PageKey, ExpectedGap] = field(default_factory=dict)
    #: The page whose third consecutive 401 ends the run, if any.
    fatal_at: PageKey | None = None
    #: Faults that hit a page, by kind; and those on pages that were recovered in the end.
    injected: Counter[str] = field(default_factory=Counter)
    recovered_faults: Counter[str] = field(default_factory=Counter)
    #: Attempts the log shows per page (to compare with the predicted number).
    attempts_seen: dict[PageKey, int] = field(default_factory=dict)
    attempts_predicted: dict[PageKey, int] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """``fatal``, ``gaps`` or ``recovered``."""
        if self.fatal_at is not None:
            return "fatal"
        return "gaps" if self.gaps else "recovered"


def api_requests(log: Iterable[RequestRecord]) -> list[RequestRecord]:
    """The requests to known PMP endpoints (no token grants, no absent optional paths)."""
    return [r for r in log if r.endpoint in ENDPOINTS]


def filters(params: dict[str, str]) -> dict[str, str]:
    """A request's parameters without the paging ones."""
    return {k: v for k, v in params.items() if k not in PAGING_PARAMS}


def page_key(record: RequestRecord) -> PageKey:
    """(endpoint, page, parent) as the extractor names a gap."""
    assert record.endpoint is not None
    parent = next((record.params[p] for p in PARENT_PARAMS if p in record.params), "")
    return record.endpoint, int(record.params.get("page", "1")), parent


def page_size(params: dict[str, str]) -> int | None:
    """The page size a request asked for, if any."""
    size = params.get("pagelimit") or params.get("pageLimit")
    return int(size) if size else None


def _expects_records(pmp: SimulatedPMP, record: RequestRecord) -> bool:
    """True when the page, answered normally, holds at least one record."""
    assert record.endpoint is not None
    if ENDPOINTS[record.endpoint].style == "object":
        return False
    size = page_size(record.params) or 25
    page = int(record.params.get("page", "1"))
    return pmp.total(record.endpoint, **filters(record.params)) > (page - 1) * size


def _failed(pmp: SimulatedPMP, record: RequestRecord) -> bool:
    fault = record.fault
    if fault is None or fault in SERVED_FAULTS:
        return False
    if fault == "emptylist":  # an empty list only fails a page that should have records
        return _expects_records(pmp, record)
    if fault == "drift":  # page 1 cannot start early; objects have no pages
        assert record.endpoint is not None
        page = int(record.params.get("page", "1"))
        return ENDPOINTS[record.endpoint].style != "object" and page > 1
    return True


def _undetectable_drift(record: RequestRecord, in_place: set[PageKey]) -> bool:
    """A drifted answer the client cannot see as such: the page before it was not received
    in its own place in this run (a gap, the first page read, or itself drifted by as much),
    so nothing overlaps. It is accepted; the records it slid past were never served."""
    if record.fault != "drift":
        return False
    endpoint, page, parent = page_key(record)
    if page == 1 or ENDPOINTS[endpoint].style == "object":
        return False  # nothing to slide back to: served in place (see _failed)
    return (endpoint, page - 1, parent) not in in_place


def expect(
    pmp: SimulatedPMP, log: Sequence[RequestRecord], *, max_attempts: int = 3
) -> Expectation:
    """Replay each page's answers (in log order) through the resilience rules."""
    result = Expectation()
    pages: dict[PageKey, list[RequestRecord]] = {}
    for record in api_requests(log):
        pages.setdefault(page_key(record), []).append(record)
    consecutive_401 = 0
    safety_net = max_attempts + MAX_CONSECUTIVE_401 + 2
    in_place: set[PageKey] = set()  # pages the client received where they belong
    for key, answers in pages.items():
        result.attempts_seen[key] = len(answers)
        budgeted = 0
        verdict: ExpectedGap | str | None = None
        for number, answer in enumerate(answers, start=1):
            if answer.fault is not None:
                result.injected[answer.fault] += 1
            if _undetectable_drift(answer, in_place):
                consecutive_401 = 0
                verdict = "ok"
            elif not _failed(pmp, answer):
                consecutive_401 = 0
                verdict = "ok"
                in_place.add(key)
            elif answer.fault in UNAUTHORIZED_FAULTS:
                consecutive_401 += 1
                if consecutive_401 >= MAX_CONSECUTIVE_401:
                    verdict = "fatal"
                elif number >= safety_net:
                    verdict = ExpectedGap("unauthorized", 401, number)
            else:
                assert answer.fault is not None
                error_type, status = GAP_TYPES[answer.fault]
                if status is not None:  # any answer with a status breaks a run of 401s
                    consecutive_401 = 0
                budgeted += 1
                budget = min(max_attempts, TYPE_BUDGET.get(error_type, max_attempts))
                if budgeted >= budget or number >= safety_net:
                    verdict = ExpectedGap(error_type, status, number)
            if verdict is not None:
                result.attempts_predicted[key] = number
                break
        if verdict == "ok":
            result.recovered.add(key)
            result.recovered_faults.update(a.fault for a in answers if a.fault is not None)
        elif verdict == "fatal":
            result.fatal_at = key
            break
        elif isinstance(verdict, ExpectedGap):
            result.gaps[key] = verdict
        else:  # the log ends while the page was still being retried
            result.attempts_predicted[key] = len(answers) + 1
    return result


def requests_after(log: Sequence[RequestRecord], key: PageKey) -> list[RequestRecord]:
    """API requests logged after the last request for page ``key``."""
    api = api_requests(log)
    last = max(i for i, r in enumerate(api) if page_key(r) == key)
    return api[last + 1 :]


@dataclass
class AtRisk:
    """Natural keys that a page not served in full may have carried."""

    systems: set[int] = field(default_factory=set)
    patches: set[int] = field(default_factory=set)
    states: set[tuple[int, int]] = field(default_factory=set)

    def add_record(self, record: dict[str, Any]) -> None:
        """Everything ``record`` names: systems, patches and system-patch pairs."""
        system = _int(record.get("resource_id"))
        patch = _int(record.get("patch_id"))
        if system is not None:
            self.systems.add(system)
        if patch is not None:
            self.patches.add(patch)
        if system is not None and patch is not None:
            self.states.add((system, patch))
        for nested in record.get("patches") or ():
            nested_patch = _int(nested.get("patch_id"))
            if nested_patch is not None:
                self.patches.add(nested_patch)
                if system is not None:
                    self.states.add((system, nested_patch))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def at_risk(
    pmp: SimulatedPMP, log: Sequence[RequestRecord], *, undetected_drift_only: bool = False
) -> AtRisk:
    """Keys on every page of a paged endpoint that the run did not get served: pages whose
    every answer failed, pages never asked for after a reading stopped, and pages accepted
    although they had slid back undetectably (see :func:`_undetectable_drift`).

    With ``undetected_drift_only``, only the last kind: what a later gap run cannot bring
    back, because nothing marked those pages as failed."""
    served: set[PageKey] = set()
    drifted: set[PageKey] = set()
    asked: dict[tuple[str, str], RequestRecord] = {}
    for record in api_requests(log):
        key = page_key(record)
        if _undetectable_drift(record, served):
            drifted.add(key)  # accepted, but its last records were never served
        elif not _failed(pmp, record):
            served.add(key)
            drifted.discard(key)
        asked.setdefault((key[0], key[2]), record)
    risk = AtRisk()
    for (endpoint, parent), sample in asked.items():
        if ENDPOINTS[endpoint].style == "object":
            continue
        params = filters(sample.params)
        size = page_size(sample.params) or 25
        records = list(pmp.records(endpoint, **params))
        for page in range(1, max(1, math.ceil(len(records) / size)) + 1):
            key = (endpoint, page, parent)
            if (key in drifted) if undetected_drift_only else (key not in served):
                for record in records[(page - 1) * size : page * size]:
                    risk.add_record(record)
    return risk


def lost_beyond_risk(
    truth: dict[str, set[Any]], content: dict[str, set[Any]], risk: AtRisk
) -> dict[str, set[Any]]:
    """What the server holds, the database lacks, and no unserved page explains.

    A state is explained by its own page, or by its system or patch being at risk (the merge
    closes states whose system is gone)."""
    systems = truth["systems"] - content["systems"] - risk.systems
    patches = truth["patches"] - content["patches"] - risk.patches
    held = {(s, p) for s, p, _ in content["states"]}
    states = {
        (s, p, status)
        for s, p, status in truth["states"]
        if (s, p) not in held
        and (s, p) not in risk.states
        and s not in risk.systems
        and p not in risk.patches
    }
    return {"systems": systems, "patches": patches, "states": states}


def invented(truth: dict[str, set[Any]], content: dict[str, set[Any]]) -> dict[str, set[Any]]:
    """Rows in the database that the server does not hold (or holds with other values)."""
    return {name: content[name] - truth[name] for name in truth}
