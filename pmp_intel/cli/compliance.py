"""``pmp-intel compliance [--snapshot N] [--profile P] [--format md|html|json] [--output FILE]``:
evaluate the Essential Eight patching strategies for a snapshot and write a report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pmp_intel.cli.context import CommandContext


def register(subparsers: Any) -> None:
    """Add the ``compliance`` command."""
    from pmp_intel.analyse.profiles import DEFAULT_PROFILE, PROFILES

    parser = subparsers.add_parser(
        "compliance", help="Essential Eight patching maturity for a snapshot, as a report"
    )
    parser.add_argument(
        "--snapshot",
        type=int,
        help="snapshot id (default: the latest complete "
        "or partial snapshot of the configured source)",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"rule set (default {DEFAULT_PROFILE})",
    )
    parser.add_argument("--format", choices=("md", "html", "json"), default="md")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--config",
        type=Path,
        help="compliance configuration TOML (default: the compliance_config setting, "
        "PMP_INTEL_COMPLIANCE_CONFIG)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="PCT",
        help="also report a percentage policy (NOT ASD's rule)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Evaluate (storing the outcomes) and render the report."""
    from pmp_intel.analyse.compliance import ComplianceChecker
    from pmp_intel.analyse.config import ComplianceConfig
    from pmp_intel.analyse.report import render_report
    from pmp_intel.analyse.sql import latest_snapshot_id, transaction

    config = ComplianceConfig.load(args.config or ctx.settings.compliance_config)
    if args.threshold is not None:
        config = config.model_copy(update={"threshold_pct": args.threshold})
    snapshot_id = args.snapshot
    if snapshot_id is None:
        with transaction(ctx.engine) as conn:
            snapshot_id = latest_snapshot_id(conn, ctx.settings.source_name)
    report = ComplianceChecker(ctx.engine, profile=args.profile, config=config).evaluate(
        snapshot_id
    )
    text = render_report(report, args.format)
    if args.output is None:
        ctx.out.file.write(text)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    summary = ", ".join(f"{s.strategy}: ML{s.maturity_level}" for s in report.strategies)
    ctx.out.print(f"wrote {args.output} ({summary})", markup=False)
    return 0
