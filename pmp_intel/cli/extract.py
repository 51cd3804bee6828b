"""``pmp-intel extract`` and ``pmp-intel status`` (design.md §3).

Exit codes: 0 the snapshot ended complete; 1 fatal (configuration, authentication, database,
lock held); 2 not complete (gaps remain, or the run stopped on its budget): run again.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pmp_intel.cli.context import CommandContext
from pmp_intel.extract.extractor import Extractor
from pmp_intel.extract.status import StatusReport, extraction_status
from pmp_intel.logs import configure_logging
from pmp_intel.settings import LogFormat
from pmp_intel.store.engine import session_factory
from pmp_intel.store.schema import ensure_schema

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: Any) -> None:
    """Add ``extract`` and ``status``."""
    extract = subparsers.add_parser(
        "extract",
        help="resume or start a snapshot of the PMP server",
        description="Resume the open snapshot or start a new one. Exit 0 complete, "
        "1 fatal, 2 partial or stopped on budget (run again).",
    )
    extract.add_argument(
        "--endpoints", help="comma-separated endpoint names (default: all default-on endpoints)"
    )
    extract.add_argument("--max-pages", type=int, help="stop after N pages (exit 2; resume)")
    extract.add_argument("--max-minutes", type=float, help="stop after M minutes (exit 2)")
    extract.add_argument(
        "--reset",
        action="store_true",
        help="abandon the open snapshot (marked failed, reason 'reset')",
    )
    extract.add_argument(
        "--status",
        action="store_true",
        help="print the status without extracting (same as `status`)",
    )
    extract.add_argument(
        "--trigger",
        default="manual",
        choices=["manual", "cron", "service"],
        help="recorded on the snapshot",
    )
    extract.add_argument(
        "--log-format",
        choices=[f.value for f in LogFormat],
        help="json lines, text with a progress bar, or auto (default)",
    )
    extract.add_argument("--no-analysis", action="store_true",
                         help="merge the snapshot but skip metrics and compliance (run "
                         "`pmp-intel metrics` / `compliance` later)")
    extract.add_argument("--json", action="store_true", help="with --status: print JSON")
    extract.set_defaults(handler=run_extract)

    status = subparsers.add_parser("status", help="coverage, last snapshots, open gaps, lock")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)


def run_extract(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Extract once; the exit code follows the snapshot's outcome."""
    if args.status:
        return run_status(args, ctx)
    settings = ctx.settings
    log_format = LogFormat(args.log_format) if args.log_format else settings.log_format
    configure_logging(log_format)
    show_bar = log_format is not LogFormat.JSON and sys.stderr.isatty()
    endpoints = (
        [e.strip() for e in args.endpoints.split(",") if e.strip()] if (args.endpoints) else None
    )
    extractor = Extractor(
        settings,
        engine=ctx.engine,
        endpoints=endpoints,
        trigger=args.trigger,
        max_pages=args.max_pages,
        max_minutes=args.max_minutes,
        reset=args.reset,
        console=ctx.err if show_bar else None,
        analyses=[] if args.no_analysis else None,
    )
    result = extractor.run()
    if not (log_format is LogFormat.JSON or not sys.stdout.isatty()):
        pct = f"{result.coverage_pct:.1f}%" if result.coverage_pct is not None else "n/a"
        ctx.out.print(
            f"snapshot {result.snapshot_id}: {result.outcome.value} — coverage {pct}, "
            f"{result.gaps_open} open gap(s), {result.requests} request(s) "
            f"in {result.duration_s:.1f}s",
            markup=False,
        )
    if result.error and result.exit_code == 1:
        ctx.error(result.error)
    return int(result.exit_code)


def run_status(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the status of the configured source."""
    ensure_schema(ctx.engine)
    report = extraction_status(session_factory(ctx.engine), ctx.settings.source_name)
    if args.json:
        ctx.out.print_json(json.dumps(report.to_dict(), default=str))
        return 0
    print_status(ctx.out, report)
    return 0


def print_status(console: Console, report: StatusReport) -> None:
    """The status report as rich tables."""
    from rich.table import Table

    if not report.known:
        console.print(f"source {report.source!r}: no extraction yet", markup=False)
        return
    latest = report.latest
    if latest is not None:
        coverage = (
            f"{latest.systems_extracted:,}/{latest.systems_reported:,} systems "
            f"({latest.coverage_pct:.1f}%)"
            if latest.coverage_pct is not None and latest.systems_reported
            else "unknown"
        )
        console.print(
            f"Source {report.source}: latest snapshot {latest.id} is "
            f"{latest.status}; coverage {coverage}",
            markup=False,
        )
    console.print(
        f"Lock: held by {report.lock_holder} since {report.lock_since:%Y-%m-%d %H:%M:%S} UTC"
        if report.lock_holder and report.lock_since
        else "Lock: free",
        markup=False,
    )
    table = Table(title="Recent snapshots")
    for column in (
        "id",
        "status",
        "trigger",
        "started (UTC)",
        "finished (UTC)",
        "coverage",
        "error",
    ):
        table.add_column(column)
    for s in report.snapshots:
        table.add_row(
            str(s.id),
            s.status,
            s.trigger,
            f"{s.started_at:%Y-%m-%d %H:%M}",
            f"{s.finished_at:%Y-%m-%d %H:%M}" if s.finished_at else "",
            f"{s.coverage_pct:.1f}%" if s.coverage_pct is not None else "",
            (s.error or "")[:60],
        )
    console.print(table)
    if report.open_gaps:
        gaps = Table(title=f"Open gaps ({len(report.open_gaps)})")
        for column in (
            "snapshot",
            "endpoint",
            "page",
            "parent",
            "error",
            "HTTP",
            "attempts",
            "runs",
        ):
            gaps.add_column(column)
        for g in report.open_gaps:
            gaps.add_row(
                str(g.snapshot_id),
                g.endpoint,
                str(g.page),
                g.parent or "",
                g.error_type,
                str(g.http_status or ""),
                str(g.attempts),
                str(g.runs),
            )
        console.print(gaps)
    else:
        console.print("Open gaps: none", markup=False)
