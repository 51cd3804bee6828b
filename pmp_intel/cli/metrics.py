"""``pmp-intel metrics [--snapshot N] [--format table|json]``: compute and show a snapshot's
metrics (stored in the metric tables; recomputing replaces them)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table

from pmp_intel.cli.context import CommandContext


def register(subparsers: Any) -> None:
    """Add the ``metrics`` command."""
    parser = subparsers.add_parser(
        "metrics", help="compute patch, severity, health and CVE metrics for a snapshot"
    )
    parser.add_argument(
        "--snapshot",
        type=int,
        help="snapshot id (default: the latest complete "
        "or partial snapshot of the configured source)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Compute the metrics and print them with deltas against the previous snapshot."""
    from pmp_intel.analyse.config import ComplianceConfig
    from pmp_intel.analyse.metrics import MetricsCalculator
    from pmp_intel.analyse.sql import latest_snapshot_id, transaction

    snapshot_id = args.snapshot
    if snapshot_id is None:
        with transaction(ctx.engine) as conn:
            snapshot_id = latest_snapshot_id(conn, ctx.settings.source_name)
    config = ComplianceConfig.load(ctx.settings.compliance_config)
    calc = MetricsCalculator(ctx.engine, ctx.settings, config=config)
    metrics = calc.calculate(snapshot_id)
    deltas = calc.deltas(snapshot_id)
    if args.format == "json":
        data = metrics.to_dict()
        data["previous_snapshot_id"] = deltas.previous_snapshot_id
        data["deltas"] = {d.name: d.change for d in deltas.deltas}
        ctx.out.print(json.dumps(data, indent=2), markup=False)
        return 0
    table = Table(
        title=f"Snapshot {snapshot_id} ({metrics.started_at:%Y-%m-%d %H:%M} UTC)"
        + (
            ""
            if deltas.previous_snapshot_id is None
            else f" vs snapshot {deltas.previous_snapshot_id}"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("change", justify="right")
    for delta in deltas.deltas:
        if delta.current is None and delta.previous is None:
            continue
        change = "" if delta.change is None else f"{delta.change:+g}"
        value = "—" if delta.current is None else f"{delta.current:g}"
        table.add_row(delta.name, value, change)
    ctx.out.print(table)
    return 0
