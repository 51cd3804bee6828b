"""A faithful simulated Patch Manager Plus server for tests, demos and benchmarks.

Like ``moto`` for AWS: start it on a loopback port and point any PMP client at it::

    from pmp_intel.testing import simulated_pmp

    with simulated_pmp(systems=200, seed=7, faults="allsystems:page=3:503*2") as pmp:
        client = MyClient(pmp.base_url, accounts_url=pmp.accounts_url, **pmp.credentials)
        ...
        assert [r.status for r in pmp.request_log if r.page == 3][:2] == [503, 503]

See docs/simulator.md for every endpoint, setting and fault kind.
"""

from pmp_intel.testing.app import RequestRecord, SimulatorApp, SimulatorSettings
from pmp_intel.testing.endpoints import ENDPOINTS
from pmp_intel.testing.estate import Estate, EstateConfig
from pmp_intel.testing.faults import FAULT_KINDS, FaultRule, FaultSpec, FaultSpecError, RateLimit
from pmp_intel.testing.server import SimulatedPMP, simulated_pmp

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "Estate",
    "EstateConfig",
    "FaultRule",
    "FaultSpec",
    "FaultSpecError",
    "RateLimit",
    "RequestRecord",
    "SimulatedPMP",
    "SimulatorApp",
    "SimulatorSettings",
    "simulated_pmp",
]
