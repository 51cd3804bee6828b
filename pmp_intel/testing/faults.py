"""Fault injection: what can go wrong between a client and a PMP server, on demand.

A :class:`FaultSpec` holds targeted rules ("the 3rd page of allsystems answers 503 five
times"), seeded random faults ("10 % of requests fail with 503, an HTML page or a timeout"), a
server-side rate limit and a global latency. It has a compact text form for the command line::

    rate=0.1,kinds=503+html+timeout,seed=7
    allsystems:page=3:503*5
    allsystems:page=2:drift(3);summary:html;limit=3000/300,reply=html

Clauses are separated by ``;``. A clause starting with ``rate=``, ``kinds=``, ``seed=``,
``endpoints=``, ``limit=``, ``reply=``, ``retry_after=`` or ``latency=`` sets global options
(comma-separated ``key=value``); any other clause is a rule ``TARGET[:PARAM=VALUE…]:KIND`` where
``TARGET`` is an endpoint registry name or ``*`` and ``KIND`` is ``kind[(arg)][*count|*inf]``
(count defaults to 1).

Random faults are keyed by ``(seed, endpoint, parameters, n-th repeat)`` rather than arrival
order, so they are reproducible even when a client sends requests concurrently.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import ClassVar

from pmp_intel.testing.rng import key, label, mix64, unit

#: Every fault kind, with what it does (see docs/simulator.md).
FAULT_KINDS: dict[str, str] = {
    "latency": "delay the answer by arg milliseconds (default 250), then answer normally",
    "401": "HTTP 401 (token rejected) without invalidating tokens",
    "expire": "invalidate every issued token, then answer 401 (token expiry mid-run)",
    "429": "HTTP 429 with Retry-After: arg seconds (default 1) or an HTTP date (arg 'date')",
    "html": "HTTP 200 with an HTML 'please wait' throttle page",
    "500": "HTTP 500 with a JSON error body",
    "502": "HTTP 502 gateway error page",
    "503": "HTTP 503 service unavailable page",
    "504": "HTTP 504 gateway timeout page",
    "reset": "close the connection with a TCP reset, no answer",
    "timeout": "never answer (until the stall time passes), so the client's read timeout fires",
    "truncated": "HTTP 200 whose JSON body is cut in half",
    "empty": "HTTP 200 with an empty body",
    "emptylist": "HTTP 200, an empty record list while total says more",
    "drift": "records shift by arg positions (default 2; negative skips) as if the data moved",
}

_GLOBAL_KEYS = ("rate", "kinds", "seed", "endpoints", "limit", "reply", "retry_after", "latency")
_KIND_RE = re.compile(r"^(?P<kind>[a-z0-9]+)(?:\((?P<arg>[^)]*)\))?(?:\*(?P<count>\d+|inf))?$")


class FaultSpecError(ValueError):
    """The fault specification text is malformed."""


@dataclass(frozen=True)
class FaultRule:
    """A targeted fault: ``kind`` on requests to ``endpoint`` whose parameters match ``match``,
    for the first ``count`` such requests (``None`` = every one)."""

    kind: str
    endpoint: str = "*"
    match: tuple[tuple[str, str], ...] = ()
    count: int | None = 1
    arg: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultSpecError(
                f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}"
            )

    def matches(self, endpoint: str, params: dict[str, str]) -> bool:
        """True when this rule targets a request to ``endpoint`` with ``params``."""
        if self.endpoint not in ("*", endpoint):
            return False
        return all(params.get(k, "1" if k == "page" else None) == v for k, v in self.match)

    def __str__(self) -> str:
        parts = [self.endpoint, *(f"{k}={v}" for k, v in self.match)]
        kind = self.kind + (f"({self.arg})" if self.arg is not None else "")
        if self.count is None:
            kind += "*inf"
        elif self.count != 1:
            kind += f"*{self.count}"
        return ":".join([*parts, kind])


@dataclass(frozen=True)
class RateLimit:
    """Server-side throttling: at most ``requests`` per ``per_seconds`` (sliding window);
    beyond it answer ``reply`` (``429`` or ``html``)."""

    requests: int
    per_seconds: float
    reply: str = "429"
    retry_after: str | None = None

    def __post_init__(self) -> None:
        if self.requests < 1 or self.per_seconds <= 0:
            raise FaultSpecError("a rate limit needs requests >= 1 and a positive window")
        if self.reply not in ("429", "html"):
            raise FaultSpecError("rate-limit reply must be 429 or html")


@dataclass(frozen=True)
class FaultSpec:
    """Everything that should go wrong. Build it directly or with :meth:`parse`."""

    rules: tuple[FaultRule, ...] = ()
    rate: float = 0.0
    kinds: tuple[str, ...] = ("503",)
    seed: int = 0
    endpoints: tuple[str, ...] = ()
    rate_limit: RateLimit | None = None
    latency_ms: float = 0.0

    KINDS: ClassVar[dict[str, str]] = FAULT_KINDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise FaultSpecError("rate must be between 0 and 1")
        for kind in self.kinds:
            if kind not in FAULT_KINDS:
                raise FaultSpecError(f"unknown fault kind {kind!r}")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse the compact text form (see the module docstring)."""
        spec = cls()
        rules: list[FaultRule] = []
        limit: dict[str, str] = {}
        for clause in (c.strip() for c in text.split(";")):
            if not clause:
                continue
            if clause.split("=", 1)[0] in _GLOBAL_KEYS:
                spec = _apply_globals(spec, clause, limit)
            else:
                rules.append(_parse_rule(clause))
        if limit:
            spec = replace(spec, rate_limit=_parse_limit(limit))
        return replace(spec, rules=spec.rules + tuple(rules))

    @classmethod
    def coerce(cls, value: FaultSpec | str | None) -> FaultSpec:
        """A spec from a spec, its text form, or None (no faults)."""
        if value is None:
            return cls()
        if isinstance(value, FaultSpec):
            return value
        return cls.parse(value)

    def __str__(self) -> str:
        clauses = [str(rule) for rule in self.rules]
        options = []
        if self.rate:
            options += [f"rate={self.rate:g}", "kinds=" + "+".join(self.kinds), f"seed={self.seed}"]
            if self.endpoints:
                options.append("endpoints=" + "+".join(self.endpoints))
        if self.latency_ms:
            options.append(f"latency={self.latency_ms:g}")
        if self.rate_limit:
            rl = self.rate_limit
            options += [f"limit={rl.requests}/{rl.per_seconds:g}", f"reply={rl.reply}"]
            if rl.retry_after:
                options.append(f"retry_after={rl.retry_after}")
        if options:
            clauses.append(",".join(options))
        return ";".join(clauses)


def _apply_globals(spec: FaultSpec, clause: str, limit: dict[str, str]) -> FaultSpec:
    for item in clause.split(","):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip()
        try:
            if name == "rate":
                spec = replace(spec, rate=float(value))
            elif name == "kinds":
                spec = replace(spec, kinds=tuple(k for k in value.split("+") if k))
            elif name == "seed":
                spec = replace(spec, seed=int(value))
            elif name == "endpoints":
                spec = replace(spec, endpoints=tuple(e for e in value.split("+") if e))
            elif name == "latency":
                spec = replace(spec, latency_ms=float(value.removesuffix("ms")))
            elif name in ("limit", "reply", "retry_after"):
                limit[name] = value
            else:
                raise FaultSpecError(f"unknown option {name!r}")
        except ValueError as exc:
            if isinstance(exc, FaultSpecError):
                raise
            raise FaultSpecError(f"bad value for {name}: {value!r}") from exc
    return spec


def _parse_limit(options: dict[str, str]) -> RateLimit:
    if "limit" not in options:
        raise FaultSpecError("reply/retry_after need limit=N/SECONDS")
    requests, _, window = options["limit"].partition("/")
    seconds = window.strip() or "1"
    scale = 60.0 if seconds.endswith("m") else 1.0
    try:
        per = float(seconds.rstrip("sm") or "1") * scale
        return RateLimit(
            int(requests), per, options.get("reply", "429"), options.get("retry_after")
        )
    except ValueError as exc:
        if isinstance(exc, FaultSpecError):
            raise
        raise FaultSpecError(f"bad limit {options['limit']!r}; use e.g. 3000/300") from exc


def _parse_rule(clause: str) -> FaultRule:
    pieces = clause.split(":")
    if len(pieces) < 2:
        raise FaultSpecError(f"a rule needs TARGET:KIND, got {clause!r}")
    target, *selectors, kind_text = pieces
    match = []
    for selector in selectors:
        name, eq, value = selector.partition("=")
        if not eq or not name:
            raise FaultSpecError(f"selector must be PARAM=VALUE, got {selector!r}")
        match.append((name.strip(), value.strip()))
    found = _KIND_RE.match(kind_text.strip())
    if not found:
        raise FaultSpecError(f"bad fault {kind_text!r}; use kind[(arg)][*count]")
    count_text = found.group("count")
    count = None if count_text == "inf" else int(count_text or 1)
    return FaultRule(
        kind=found.group("kind"),
        endpoint=target.strip() or "*",
        match=tuple(match),
        count=count,
        arg=found.group("arg"),
    )


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request."""

    kind: str
    arg: str | None = None
    retry_after: str | None = None


@dataclass
class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Thread-safe."""

    spec: FaultSpec = field(default_factory=FaultSpec)
    _remaining: list[int | None] = field(default_factory=list)
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)
    _window: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._remaining = [rule.count for rule in self.spec.rules]

    def decide(
        self, endpoint: str, params: dict[str, str], now: float, api: bool = True
    ) -> Fault | None:
        """The fault for a request to ``endpoint`` at monotonic time ``now``, or None.

        ``api`` is False for the token and login endpoints: only explicit rules reach them.
        """
        spec = self.spec
        with self._lock:
            if spec.rate_limit is not None and api:
                throttled = self._throttle(spec.rate_limit, now)
                if throttled is not None:
                    return throttled
            for i, rule in enumerate(spec.rules):
                left = self._remaining[i]
                if (left is None or left > 0) and rule.matches(endpoint, params):
                    if left is not None:
                        self._remaining[i] = left - 1
                    return Fault(rule.kind, rule.arg)
            if spec.rate and api and (not spec.endpoints or endpoint in spec.endpoints):
                identity = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
                seen_key = (endpoint, identity)
                n = self._seen.get(seen_key, 0)
                self._seen[seen_key] = n + 1
                h = key(spec.seed, label(endpoint), label(identity), n)
                if unit(h) < spec.rate:
                    return Fault(spec.kinds[mix64(h) % len(spec.kinds)])
        return None

    def _throttle(self, limit: RateLimit, now: float) -> Fault | None:
        window = self._window
        while window and window[0] <= now - limit.per_seconds:
            window.popleft()
        if len(window) < limit.requests:
            window.append(now)
            return None
        wait = max(1, int(window[0] + limit.per_seconds - now + 0.999))
        retry = limit.retry_after or str(wait)
        return Fault("429" if limit.reply == "429" else "html", retry_after=retry)
