"""The resilience policy: decisions, waits, Retry-After parsing, the tenacity runner."""

from __future__ import annotations

import pytest

from pmp_intel.api.clock import FakeClock
from pmp_intel.api.errors import RULES, Action, ErrorType
from pmp_intel.api.retry import (
    AttemptResult,
    Decision,
    RetryPolicy,
    _datetime_header,
    parse_retry_after,
)

NOW = 1_700_000_000.0


def policy(**kwargs: object) -> RetryPolicy:
    return RetryPolicy(clock=FakeClock(NOW), rng=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


def test_every_error_type_has_a_rule() -> None:
    assert set(RULES) == set(ErrorType)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("1.5", 1.5), ("0", None), ("-3", None), ("", None), (None, None),
     ("soon", None), ("nan", None)],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_http_date() -> None:
    assert parse_retry_after(_datetime_header(30, NOW), NOW) == pytest.approx(30, abs=1)
    assert parse_retry_after(_datetime_header(-30, NOW), NOW) is None  # in the past


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    p = RetryPolicy(rng=lambda: 1.0, backoff_cap=5)
    assert [p.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert RetryPolicy(rng=lambda: 0.25).backoff(3) == 1.0


def result(kind: ErrorType, retry_after: float | None = None) -> AttemptResult:
    return AttemptResult(kind, retry_after=retry_after)


@pytest.mark.parametrize(
    ("kind", "attempts", "action", "wait"),
    [
        (ErrorType.OK, 1, Action.ACCEPT, 0),
        (ErrorType.SERVER_ERROR, 1, Action.BACKOFF_AND_RETRY, 1),
        (ErrorType.SERVER_ERROR, 2, Action.BACKOFF_AND_RETRY, 2),
        (ErrorType.SERVER_ERROR, 3, Action.GAP, 0),
        (ErrorType.TIMEOUT, 2, Action.BACKOFF_AND_RETRY, 2),
        (ErrorType.CONNECTION_ERROR, 1, Action.BACKOFF_AND_RETRY, 1),
        (ErrorType.INVALID_JSON, 1, Action.RETRY_ONCE, 1),
        (ErrorType.INVALID_JSON, 2, Action.GAP, 0),
        (ErrorType.EMPTY_PAGE, 2, Action.BACKOFF_AND_RETRY, 2),
        (ErrorType.EMPTY_PAGE, 3, Action.GAP, 0),
        (ErrorType.API_ERROR, 1, Action.GAP, 0),
        (ErrorType.API_ERROR_TRANSIENT, 1, Action.BACKOFF_AND_RETRY, 1),
        (ErrorType.FORBIDDEN, 1, Action.GAP, 0),
        (ErrorType.NOT_FOUND, 1, Action.GAP, 0),
        (ErrorType.TLS_ERROR, 1, Action.FATAL, 0),
        (ErrorType.RATE_LIMITED, 1, Action.WAIT_AND_RETRY, 1),
        (ErrorType.HTML_THROTTLE, 2, Action.WAIT_AND_RETRY, 2),
    ],
)
def test_decisions(kind: ErrorType, attempts: int, action: Action, wait: float) -> None:
    decision = policy().decide(result(kind), attempts=attempts, consecutive_401=0)
    assert decision == Decision(action, wait)


def test_retry_after_wins_and_is_capped() -> None:
    p = policy(retry_after_cap=60)
    assert p.decide(result(ErrorType.RATE_LIMITED, 12), attempts=1, consecutive_401=0).wait == 12
    assert p.decide(result(ErrorType.RATE_LIMITED, 900), attempts=1,
                    consecutive_401=0).wait == 60
    assert p.decide(result(ErrorType.SERVER_ERROR, 3), attempts=1, consecutive_401=0).wait == 3


def test_401_refreshes_then_is_fatal_on_the_third_in_a_row() -> None:
    p = policy()
    assert p.decide(result(ErrorType.UNAUTHORIZED), attempts=0,
                    consecutive_401=2).action is Action.REFRESH_AND_RETRY
    assert p.decide(result(ErrorType.UNAUTHORIZED), attempts=0,
                    consecutive_401=3).action is Action.FATAL


@pytest.mark.parametrize("error", [ErrorType.NOT_FOUND, ErrorType.FORBIDDEN])
def test_optional_404_or_403_is_not_supported(error: ErrorType) -> None:
    """404: the server lacks the endpoint; 403: the token lacks its scope (pmp-api.md §2b)."""
    d = policy().decide(result(error), attempts=1, consecutive_401=0, optional=True)
    assert d.action is Action.NOT_SUPPORTED
    required = policy().decide(result(error), attempts=1, consecutive_401=0, optional=False)
    assert required.action is Action.GAP


def test_run_sleeps_through_the_clock_and_reports_each_attempt() -> None:
    clock = FakeClock(NOW)
    p = RetryPolicy(clock=clock, rng=lambda: 1.0)
    outcomes = iter([result(ErrorType.SERVER_ERROR), result(ErrorType.TIMEOUT),
                     AttemptResult(ErrorType.OK, value="done")])
    seen: list[tuple[int, ErrorType, Action]] = []
    last, decision, attempts = p.run(
        lambda: next(outcomes), consecutive_401=lambda: 0,
        on_attempt=lambda n, r, d: seen.append((n, r.error_type, d.action)),
    )
    assert last.value == "done"
    assert decision.action is Action.ACCEPT
    assert attempts == 3
    assert clock.sleeps == [1.0, 2.0]
    assert seen == [(1, ErrorType.SERVER_ERROR, Action.BACKOFF_AND_RETRY),
                    (2, ErrorType.TIMEOUT, Action.BACKOFF_AND_RETRY),
                    (3, ErrorType.OK, Action.ACCEPT)]


def test_run_gives_up_after_the_budget() -> None:
    clock = FakeClock(NOW)
    p = RetryPolicy(clock=clock, rng=lambda: 1.0, max_attempts=3)
    _last, decision, attempts = p.run(
        lambda: result(ErrorType.SERVER_ERROR), consecutive_401=lambda: 0,
        on_attempt=lambda n, r, d: None,
    )
    assert decision.action is Action.GAP
    assert attempts == 3
    assert len(clock.sleeps) == 2


def test_retry_after_zero_does_not_spin() -> None:
    clock = FakeClock(NOW)
    p = RetryPolicy(clock=clock, rng=lambda: 1.0)
    answers = iter([AttemptResult(ErrorType.RATE_LIMITED, retry_after=parse_retry_after("0", NOW)),
                    AttemptResult(ErrorType.OK)])
    p.run(lambda: next(answers), consecutive_401=lambda: 0, on_attempt=lambda n, r, d: None)
    assert clock.sleeps == [1.0]  # backoff instead of an immediate retry
