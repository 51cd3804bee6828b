"""``pmp-intel demo``: simulator → extraction → metrics → compliance on a local SQLite file.

No configuration and nothing leaves the machine: a simulated PMP server runs on a loopback
port, the estate is extracted twice with a week of simulated churn in between (to show
history), metrics and Essential Eight compliance are computed, a summary is printed, and the
HTML report is written next to the database.

PMP does not record which systems are internet-facing, so the demo writes a compliance
configuration (``compliance.toml`` in the work folder) that names the simulated estate's Linux
servers as its internet-facing systems; a real estate names its own.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pmp_intel.cli.context import CommandContext

DEFAULT_WORKDIR = Path("pmp-intel-demo")

#: The simulated estate has no CMDB; its Linux servers (named ``<ORG>-LNX<n>``) stand in for
#: the internet-facing ones, so the internet-facing controls can be judged.
DEMO_COMPLIANCE_CONFIG = """\
# Written by `pmp-intel demo`. PMP does not record which systems are internet-facing, so
# the Essential Eight checker needs them named (docs/essential-eight.md). The simulated estate
# has no CMDB: its Linux servers stand in for the internet-facing web servers.
[internet_facing]
name_patterns = ["*-LNX*"]
"""


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the whole pipeline against a simulated PMP server",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"folder for the demo database and report (default: ./{DEFAULT_WORKDIR})",
    )
    parser.add_argument(
        "--systems",
        type=int,
        default=3362,
        help="managed systems in the simulated estate (default 3,362)",
    )
    parser.add_argument(
        "--days", type=float, default=14.0, help="simulated days between the two extractions"
    )
    parser.add_argument("--seed", type=int, default=7, help="estate seed")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run the demo; 0 when both extractions completed."""
    from pmp_intel.logs import LOGGER_NAME, configure_logging
    from pmp_intel.settings import LogFormat
    from pmp_intel.store.engine import create_db_engine

    started = time.perf_counter()
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "pmp_intelligence.db"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{database.resolve()}"
    engine = create_db_engine(url)
    err = Console(file=sys.stderr)
    log_file = (workdir / "extraction.log").open("w", encoding="utf-8")
    handler = configure_logging(LogFormat.JSON, stream=log_file)
    try:
        return _extract_and_report(args, ctx, engine, url, database, workdir, err, started)
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(handler)
        log_file.close()
        engine.dispose()


def _extract_and_report(
    args: argparse.Namespace,
    ctx: CommandContext,
    engine: Any,
    url: str,
    database: Path,
    workdir: Path,
    err: Console,
    started: float,
) -> int:
    from pmp_intel.analyse import ComplianceChecker, ComplianceConfig, render_report
    from pmp_intel.extract.extractor import Extractor
    from pmp_intel.testing import simulated_pmp

    out = ctx.out
    config_file = workdir / "compliance.toml"
    config_file.write_text(DEMO_COMPLIANCE_CONFIG, encoding="utf-8")
    config = ComplianceConfig.from_toml(config_file)
    snapshots = []
    with simulated_pmp(systems=args.systems, seed=args.seed, auth="token") as pmp:
        settings = pmp.client_settings(
            database_url=url,
            source_name="demo",
            rate_limit=10_000.0,
            concurrency=4,
            compliance_config=config_file.resolve(),
        )
        for label in ("first extraction", f"after {args.days:g} simulated days"):
            out.print(f"\n[bold]Extracting[/] ({label}) …")
            result = Extractor(
                settings,
                engine=engine,
                trigger="demo",
                console=err if err.is_terminal else None,
                now=lambda: simulated_now(pmp),
            ).run()
            out.print(
                f"snapshot {result.snapshot_id}: {result.outcome.value}, coverage "
                f"{result.coverage_pct or 0:.1f}% of {result.systems_reported or 0:,} "
                f"systems, {result.requests} requests in {result.duration_s:.1f}s"
            )
            snapshots.append(result)
            if len(snapshots) == 1:
                pmp.advance(days=args.days)
    first, second = snapshots
    if second.snapshot_id is None or first.snapshot_id is None or not second.ok:
        ctx.error("the demo extraction did not complete; see " + str(workdir / "extraction.log"))
        return 1
    report = ComplianceChecker(engine, config=config).evaluate(second.snapshot_id)
    html = workdir / "compliance.html"
    html.write_text(render_report(report, "html"), encoding="utf-8")
    _summary(out, engine, first.snapshot_id, second.snapshot_id, report)
    out.print(
        "\nInternet-facing systems: PMP does not record them, so the demo names the simulated "
        f"Linux servers (*-LNX*) in {config_file.resolve()}; name your own in [internet_facing] "
        "or the internet-facing controls have no visibility.",
        markup=False,
    )
    out.print(f"\nHTML report: {html.resolve()}")
    out.print(f"Database:    {database.resolve()}  (try: pmp-intel --database-url {url} status)")
    out.print(f"Done in {time.perf_counter() - started:.0f}s.")
    return 0


def simulated_now(pmp: Any) -> datetime:
    """The simulator's current (simulated) time: snapshots are stamped with it, so that
    ages, deadlines and stale agents are measured in the estate's own time."""
    return datetime.fromtimestamp(pmp.estate.now_ms / 1000, UTC)


def _summary(out: Console, engine: Any, first: int, second: int, report: Any) -> None:
    from sqlalchemy.orm import Session

    from pmp_intel.analyse import MetricsCalculator
    from pmp_intel.analyse.changes import diff_snapshots
    from pmp_intel.service import PMPIntelligenceService

    metrics = MetricsCalculator(engine).get(second)
    with Session(engine) as session:
        diff = diff_snapshots(session, report.source_id, first, second)
    if metrics is not None:
        patches, severity, health = (
            metrics.patch_total,
            metrics.severity_total,
            metrics.health_total,
        )
        figures = Table(title="Estate at the latest snapshot", show_header=False)
        figures.add_row(
            "systems",
            f"{health.total_systems:,} ({health.healthy:,} healthy, "
            f"{health.highly_vulnerable:,} highly vulnerable, "
            f"{health.stale_agents:,} stale agents)",
        )
        figures.add_row(
            "system-patch pairs",
            f"{patches.applicable_pairs:,} applicable, "
            f"{patches.missing_pairs:,} missing, {patches.failed_pairs:,} failed",
        )
        figures.add_row("missing critical pairs", f"{severity.missing_critical:,}")
        out.print(figures)
        # the severity metrics have no organisation scope: the service's summary has it
        with PMPIntelligenceService(engine=engine, source="demo") as service:
            summary = service.organisation_summary(snapshot=second).data
        orgs = sorted(
            (r for r in summary if r["missing_critical_pairs"]),
            key=lambda r: (-r["missing_critical_pairs"], r["organisation"]),
        )[:8]
        if orgs:
            table = Table(title="Missing critical patches by organisation (top 8)")
            table.add_column("organisation")
            table.add_column("systems", justify="right")
            table.add_column("missing or failed critical pairs", justify="right")
            for org in orgs:
                table.add_row(
                    org["organisation"] or "(none)",
                    f"{org['systems']:,}",
                    f"{org['missing_critical_pairs']:,}",
                )
            out.print(table)
    maturity = Table(title=f"Essential Eight ({report.profile_title})")
    maturity.add_column("strategy")
    maturity.add_column("maturity", justify="center")
    maturity.add_column("controls blocking the next level")
    for strategy in report.strategies:
        maturity.add_row(
            strategy.strategy.replace("_", " "),
            f"ML{strategy.maturity_level}",
            ", ".join(strategy.blocking[:6]) or "—",
        )
    out.print(maturity)
    changes = Table(title=f"What changed from snapshot {first} to {second}", show_header=False)
    changes.add_row("systems added / retired", f"{diff.systems_added:,} / {diff.systems_retired:,}")
    changes.add_row("newly missing pairs", f"{diff.newly_missing:,}")
    changes.add_row("newly installed pairs", f"{diff.newly_installed:,}")
    out.print(changes)
