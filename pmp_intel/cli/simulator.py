"""``pmp-intel simulator``: serve the simulated PMP API (see pmp_intel.testing)."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from pmp_intel.cli.context import CommandContext
from pmp_intel.errors import ConfigurationError


def register(subparsers: Any) -> None:
    """Add the ``simulator`` command."""
    parser = subparsers.add_parser(
        "simulator",
        help="serve a simulated PMP API on loopback",
        description="Serve a simulated Patch Manager Plus server until Ctrl-C. "
        "Nothing leaves this machine.",
    )
    parser.add_argument("--port", type=int, default=8383, help="port to listen on (0 = any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--systems", type=int, default=3362, help="managed systems in the estate")
    parser.add_argument("--seed", type=int, default=7, help="estate seed (same seed, same estate)")
    parser.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help='faults to inject, e.g. "rate=0.1,kinds=503+html,seed=7" or "allsystems:page=3:503*5"',
    )
    parser.add_argument(
        "--auth",
        choices=("oauth", "onprem", "token", "none"),
        default="oauth",
        help="how clients authenticate (default oauth)",
    )
    parser.add_argument(
        "--stringly",
        action="store_true",
        help="send every record value as a string (EC-cloud style)",
    )
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="access-token lifetime, s")
    parser.add_argument("--page-cap", type=int, default=1000, help="largest pagelimit honoured")
    parser.add_argument(
        "--optional",
        default="",
        metavar="NAMES",
        help="comma-separated optional endpoints to switch on "
        "(vulnerabilities, deploymenttasks, patchgroups)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext, stop: threading.Event | None = None) -> int:
    """Serve until interrupted (or until ``stop`` is set, for tests)."""
    from pmp_intel.testing import FaultSpec, FaultSpecError, SimulatedPMP

    try:
        faults = FaultSpec.parse(args.faults) if args.faults else None
    except FaultSpecError as exc:
        raise ConfigurationError(f"--faults: {exc}") from None
    optional = tuple(name for name in args.optional.split(",") if name)
    try:
        pmp = SimulatedPMP(
            systems=args.systems,
            seed=args.seed,
            auth=args.auth,
            stringly=args.stringly,
            token_ttl=args.token_ttl,
            faults=faults,
            optional_endpoints=optional,
            page_cap=args.page_cap,
            host=args.host,
            port=args.port,
        )
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    with pmp:
        ctx.out.print(f"Simulated PMP server: {pmp.base_url}", markup=False)
        if args.auth == "oauth":
            ctx.out.print(f"Zoho accounts server: {pmp.accounts_url}", markup=False)
        for name, value in pmp.credentials.items():
            ctx.out.print(f"  {name}: {value}", markup=False)
        ctx.out.print(
            f"Estate: {pmp.estate.present_count()} systems, seed {args.seed}"
            + (f", faults: {faults}" if faults else ""),
            markup=False,
        )
        ctx.out.print("Press Ctrl-C to stop.", markup=False)
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            ctx.out.print("stopped", markup=False)
    return 0
