"""Helpers for the service tests: a simulated estate extracted a few times, with the
simulator's own truth captured before each advance."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from pmp_intel.extract.extractor import Extractor
from pmp_intel.settings import Settings
from pmp_intel.testing import SimulatedPMP, simulated_pmp

DCAPI_STATUS = {"installed": 201, "missing": 202, "failed": 206}


def settings_for(pmp: SimulatedPMP, database_url: str, **overrides: Any) -> Settings:
    """Settings pointing at ``pmp`` (static token) on a source of the test's own."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "source_name": f"svc-{uuid.uuid4().hex[:8]}",
        "rate_limit": 10_000.0,
        "concurrency": 4,
    }
    return pmp.client_settings(**{**values, **overrides})


def simulated_now(pmp: SimulatedPMP) -> datetime:
    """The simulator's clock (snapshots are stamped with it)."""
    return datetime.fromtimestamp(pmp.estate.now_ms / 1000, UTC)


@dataclass
class Truth:
    """What the simulated server held when a snapshot was taken."""

    systems: dict[int, dict[str, Any]]  # resource_id -> allsystems record
    states: set[tuple[int, int, int]]  # (resource_id, patch_id, install_status)

    def names(self, organisation_like: str | None = None) -> list[str]:
        """System names, sorted; optionally only one organisation's (exact name)."""
        return sorted(
            str(r["resource_name"])
            for r in self.systems.values()
            if organisation_like is None or r["branch_office_name"] == organisation_like
        )

    def failed_counts(self) -> dict[int, int]:
        """patch_id -> systems on which it failed."""
        return dict(Counter(p for _, p, s in self.states if s == 206))

    def organisations(self) -> dict[str, dict[str, int]]:
        """organisation -> systems, missing pairs, failed pairs."""
        out: dict[str, dict[str, int]] = defaultdict(
            lambda: {"systems": 0, "missing_pairs": 0, "failed_pairs": 0}
        )
        for record in self.systems.values():
            out[str(record["branch_office_name"])]["systems"] += 1
        for resource, _patch, status in self.states:
            org = str(self.systems[resource]["branch_office_name"])
            if status == 202:
                out[org]["missing_pairs"] += 1
            elif status == 206:
                out[org]["failed_pairs"] += 1
        return dict(out)


def truth(pmp: SimulatedPMP) -> Truth:
    """The simulator's current systems and per-system patch states."""
    states = set()
    for record in pmp.records("dcapi_systemreport"):
        for patch in record["patches"]:
            status = DCAPI_STATUS[str(patch["patch_status"]).lower()]
            states.add((int(record["resource_id"]), int(patch["patch_id"]), status))
    systems = {int(r["resource_id"]): dict(r) for r in pmp.records("allsystems")}
    return Truth(systems, states)


@dataclass
class History:
    """A source extracted several times: its settings, snapshots and the truth of each."""

    settings: Settings
    snapshot_ids: list[int] = field(default_factory=list)
    started: list[datetime] = field(default_factory=list)
    truths: list[Truth] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.settings.source_name


def build_history(
    engine: Engine, database_url: str, *, systems: int, seed: int, extractions: int, days: float
) -> History:
    """Extract a simulated estate ``extractions`` times, ``days`` apart."""
    with simulated_pmp(systems=systems, seed=seed, auth="token") as pmp:
        history = History(settings_for(pmp, database_url))
        for index in range(extractions):
            if index:
                pmp.advance(days=days)
            expected = truth(pmp)
            result = Extractor(
                history.settings, engine=engine, now=lambda: simulated_now(pmp)
            ).run()
            assert result.ok, result.error
            assert result.snapshot_id is not None
            history.snapshot_ids.append(result.snapshot_id)
            history.started.append(simulated_now(pmp))
            history.truths.append(expected)
    return history
