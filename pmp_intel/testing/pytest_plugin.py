"""pytest plugin: a ``simulated_pmp_server`` fixture (a small estate, fresh per test).

Enable with ``-p pmp_intel.testing.pytest_plugin`` or through the ``pytest11`` entry point.
Parametrise it indirectly to change the simulator::

    @pytest.mark.parametrize("simulated_pmp_server", [{"auth": "onprem"}], indirect=True)
    def test_login(simulated_pmp_server): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pmp_intel.testing.server import SimulatedPMP

#: Defaults of the fixture: small enough to build in milliseconds, big enough to page.
DEFAULTS: dict[str, Any] = {"systems": 200, "seed": 7}


@pytest.fixture
def simulated_pmp_server(request: pytest.FixtureRequest) -> Iterator[SimulatedPMP]:
    """A running simulated PMP server (200 systems, seed 7, Zoho OAuth) for one test."""
    options = dict(DEFAULTS)
    options.update(getattr(request, "param", None) or {})
    with SimulatedPMP(**options) as pmp:
        yield pmp
