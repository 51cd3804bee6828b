"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import FakeClock

from pmp_intel.testing import Estate, EstateConfig, SimulatedPMP


@pytest.fixture
def clock() -> FakeClock:
    """An injectable clock (and sleeper) that never waits."""
    return FakeClock()


@pytest.fixture(scope="session")
def default_estate() -> Estate:
    """The default-scale estate (3,362 systems), aggregated once per session."""
    estate = Estate(EstateConfig())
    estate.aggregates()
    return estate


@pytest.fixture
def small_server() -> Iterator[SimulatedPMP]:
    """A running server with no auth, for transport-level tests."""
    with SimulatedPMP(systems=60, seed=5, auth="none") as pmp:
        yield pmp
