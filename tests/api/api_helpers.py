"""Helpers shared by the API tests: canned envelopes and a client wired to a fake clock."""

from __future__ import annotations

import json
from typing import Any

import requests
from pydantic import SecretStr

from pmp_intel.api.auth import AuthProvider, StaticTokenProvider, TokenManager
from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock
from pmp_intel.api.events import EventCollector
from pmp_intel.api.paginate import InvalidRecord, PagingStyle
from pmp_intel.api.ratelimit import TokenBucket
from pmp_intel.api.retry import RetryPolicy
from pmp_intel.api.session import build_session

BASE = "https://pmp.example.test"
STATIC_TOKEN = "STATIC-TOKEN-9f8e7d6c5b4a"


class Spec:
    """A minimal EndpointSpec for client tests (no pydantic)."""

    def __init__(
        self,
        name: str = "things",
        path: str = "/api/1.4/patch/things",
        key: str = "things",
        paging: PagingStyle = PagingStyle.PAGED,
        optional: bool = False,
        parent_param: str | None = None,
    ) -> None:
        self.name = name
        self.url_path = path
        self.record_keys = (key,)
        self.paging = paging
        self.optional = optional
        self.parent_param = parent_param

    def parse_records(self, raw: list[Any]) -> tuple[list[Any], list[InvalidRecord]]:
        good = [r for r in raw if isinstance(r, dict) and "bad" not in r]
        bad = [InvalidRecord(i, r, "bad record") for i, r in enumerate(raw)
               if not (isinstance(r, dict) and "bad" not in r)]
        return good, bad


def envelope(key: str, records: list[Any], total: int | None = None,
             limit: int | None = 25, page: int | None = 1) -> str:
    """A legacy list envelope."""
    response: dict[str, Any] = {key: records}
    if total is not None:
        response["total"] = total
    if limit is not None:
        response["limit"] = limit
    if page is not None:
        response["page"] = page
    return json.dumps({"message_type": key, "message_response": response,
                       "message_version": "1.4", "status": "success"})


def make_client(
    clock: FakeClock | None = None,
    provider: AuthProvider | None = None,
    *,
    max_attempts: int = 3,
    page_limit: int = 1000,
    concurrency: int = 2,
    rate: float = 1000.0,
    session: requests.Session | None = None,
    read_ahead: bool = True,
) -> tuple[PMPClient, EventCollector, FakeClock]:
    """A client on BASE with a fake clock (no real sleeps) and an event collector."""
    clock = clock or FakeClock()
    events = EventCollector()
    session = session or build_session()
    provider = provider or StaticTokenProvider(SecretStr(STATIC_TOKEN))
    policy = RetryPolicy(max_attempts=max_attempts, clock=clock, rng=lambda: 0.5)
    tokens = TokenManager(provider, session, clock=clock, backoff=policy, on_event=events)
    client = PMPClient(
        BASE, tokens, session=session, rate_limiter=TokenBucket(rate, burst=rate, clock=clock),
        policy=policy, page_limit=page_limit, concurrency=concurrency, clock=clock,
        on_event=events, read_ahead=read_ahead,
    )
    return client, events, clock
