"""The resilience policy of design.md §4, built on tenacity, in one place.

An attempt is a callable returning an :class:`AttemptResult` (it never raises for an HTTP
or transport problem: those are classified). :meth:`RetryPolicy.decide` turns the result
into a :class:`Decision` following :data:`pmp_intel.api.errors.RULES`; :meth:`RetryPolicy.run`
drives the attempts with a :class:`tenacity.Retrying` whose sleeps go through the injected
clock. The caller sees every attempt and its decision through ``on_attempt`` (for events,
for the forced token refresh on 401) before any wait happens.

Waits:

* 429 / HTML throttle: ``Retry-After`` in seconds or as an HTTP date, capped at
  ``retry_after_cap``; a value ≤ 0 or absent falls back to the backoff (no tight loop).
* everything else retryable: exponential backoff (1 s, 2 s, 4 s … capped) with full jitter.
* 401: no wait; the token is refreshed and the request retried at once. 401 answers do not
  use the attempt budget: ``max_consecutive_401`` of them in a row are fatal instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from pmp_intel.api.clock import SYSTEM_CLOCK, Clock
from pmp_intel.api.errors import RULES, Action, ErrorType

RETRYING_ACTIONS = frozenset(
    {Action.REFRESH_AND_RETRY, Action.WAIT_AND_RETRY, Action.BACKOFF_AND_RETRY, Action.RETRY_ONCE}
)


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt produced, already classified."""

    error_type: ErrorType
    value: Any = None
    http_status: int | None = None
    #: Seconds the server asked us to wait (already parsed; None when absent or ≤ 0).
    retry_after: float | None = None
    #: Redacted response sample, ≤ 1 KB.
    sample: str = ""
    #: A short, secret-free explanation (no body text).
    detail: str = ""
    elapsed_s: float = 0.0
    #: Which token generation the request carried (to make the 401 refresh single-flight).
    token_generation: int = 0


@dataclass(frozen=True)
class Decision:
    """What the policy does after an attempt: the action and how long to wait first."""

    action: Action
    wait: float = 0.0

    @property
    def retries(self) -> bool:
        """True when another attempt follows."""
        return self.action in RETRYING_ACTIONS


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date).

    Returns None when the header is absent, malformed, or asks for ≤ 0 seconds.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if seconds != seconds or seconds <= 0:  # NaN or no hint
        return None
    return seconds


def _datetime_header(seconds_from_now: float, now: float) -> str:
    """An HTTP-date ``seconds_from_now`` after ``now`` (a helper for tests and simulators)."""
    moment = datetime.fromtimestamp(now + seconds_from_now, tz=UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


@dataclass
class RetryPolicy:
    """Attempt budgets and waits; see the module docstring."""

    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    retry_after_cap: float = 300.0
    max_consecutive_401: int = 3
    clock: Clock = SYSTEM_CLOCK
    rng: Callable[[], float] = field(default_factory=lambda: random.Random().random)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential backoff before retry ``retry_number`` (1-based)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, retry_number - 1))
        return float(self.rng() * ceiling)

    def decide(
        self,
        result: AttemptResult,
        *,
        attempts: int,
        consecutive_401: int,
        optional: bool = False,
    ) -> Decision:
        """The decision after ``result``.

        ``attempts`` counts the attempts of this request that were not 401s (this one
        included when it was not a 401); ``consecutive_401`` counts 401 answers in a row
        across the client, this one included.
        """
        error = result.error_type
        if optional and error in (ErrorType.NOT_FOUND, ErrorType.FORBIDDEN):
            # absent on this server, or outside the token's scopes (pmp-api.md §2b)
            return Decision(Action.NOT_SUPPORTED)
        if error is ErrorType.UNAUTHORIZED:
            if consecutive_401 >= self.max_consecutive_401:
                return Decision(Action.FATAL)
            return Decision(Action.REFRESH_AND_RETRY)
        rule = RULES[error]
        if rule.action not in RETRYING_ACTIONS:
            return Decision(rule.action)
        budget = min(self.max_attempts, rule.attempts or self.max_attempts)
        if attempts >= budget:
            return Decision(Action.GAP)
        if result.retry_after is not None and rule.action in {
            Action.WAIT_AND_RETRY,
            Action.BACKOFF_AND_RETRY,
        }:
            return Decision(rule.action, min(result.retry_after, self.retry_after_cap))
        return Decision(rule.action, self.backoff(attempts))

    def run(
        self,
        attempt: Callable[[], AttemptResult],
        *,
        consecutive_401: Callable[[], int],
        on_attempt: Callable[[int, AttemptResult, Decision], None],
        optional: bool = False,
    ) -> tuple[AttemptResult, Decision, int]:
        """Run ``attempt`` until it is accepted or given up; returns the last result,
        its decision and the number of attempts made."""
        counters = {"all": 0, "budgeted": 0}

        def one() -> tuple[AttemptResult, Decision]:
            result = attempt()
            counters["all"] += 1
            if result.error_type is not ErrorType.UNAUTHORIZED:
                counters["budgeted"] += 1
            decision = self.decide(
                result,
                attempts=counters["budgeted"],
                consecutive_401=consecutive_401(),
                optional=optional,
            )
            on_attempt(counters["all"], result, decision)
            return result, decision

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            decision: Decision = state.outcome.result()[1]
            return float(decision.wait)

        retrying = Retrying(
            sleep=self.clock.sleep,
            wait=wait,
            retry=retry_if_result(lambda outcome: outcome[1].retries),
            # A safety net only: decide() ends every request well before this.
            stop=stop_after_attempt(self.max_attempts + self.max_consecutive_401 + 2),
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
            reraise=True,
        )
        result, decision = retrying(one)
        if decision.retries:  # the safety net fired
            decision = Decision(Action.GAP)
        return result, decision, counters["all"]
