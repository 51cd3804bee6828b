"""``pmp-intel simulator``: serve the simulated PMP API (see pmp_intel.testing)."""

from __future__ import annotations

import argparse
from typing import Any

from pmp_intel.cli.context import CommandContext
from pmp_intel.errors import PMPIntelError


def register(subparsers: Any) -> None:
    """Add the ``simulator`` command."""
    parser = subparsers.add_parser("simulator", help="serve a simulated PMP API on loopback")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Serve until interrupted."""
    raise PMPIntelError("the simulator is not built yet (issue 3)")
