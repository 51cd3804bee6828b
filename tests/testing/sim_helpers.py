"""Helpers shared by the simulator tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from pmp_intel.testing import Estate, EstateConfig, SimulatorApp, SimulatorSettings


class FakeClock:
    """A monotonic clock tests move by hand; its ``sleep`` only moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_app(
    clock: FakeClock | None = None,
    systems: int = 120,
    seed: int = 3,
    faults: Any = None,
    **settings: Any,
) -> SimulatorApp:
    """A socket-less simulator (no auth unless asked)."""
    settings.setdefault("auth", "none")
    fake = clock or FakeClock()
    return SimulatorApp(
        Estate(EstateConfig(systems=systems, seed=seed)),
        SimulatorSettings(**settings),
        faults,
        clock=fake,
        sleeper=fake.sleep,
        wall_clock=lambda: 1_764_028_800.0,
    )


def get(app: SimulatorApp, path: str, auth: str | None = None, **params: Any) -> tuple[int, Any]:
    """GET through the app without a socket: ``(status, parsed JSON or text)``."""
    response = app.handle("GET", path, urlencode(params), auth)
    try:
        return response.status, json.loads(response.body)
    except ValueError:
        return response.status, response.body.decode("utf-8", "replace")


def api(name: str) -> str:
    """The 1.4 path of a patch endpoint."""
    return f"/api/1.4/patch/{name}"
