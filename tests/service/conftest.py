"""Fixtures of the service tests: one simulated history per session, and services on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_helpers import History, build_history
from sqlalchemy import Engine

from pmp_intel.service import PMPIntelligenceService


@pytest.fixture(scope="session")
def history(engine: Engine, database_url: str) -> History:
    """A 24-system estate extracted three times, three simulated days apart."""
    return build_history(engine, database_url, systems=24, seed=11, extractions=3, days=3.0)


@pytest.fixture
def service(database_url: str, history: History) -> Iterator[PMPIntelligenceService]:
    """A service on the session database, reading the history's source."""
    with PMPIntelligenceService(url=database_url, source=history.source) as svc:
        yield svc
