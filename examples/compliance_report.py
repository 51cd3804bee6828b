"""Write the Essential Eight report of the latest snapshot to a file (md, html or json).

    python examples/compliance_report.py e8.html

Uses PMP_INTEL_DATABASE_URL (default: the local SQLite file) and PMP_INTEL_SOURCE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmp_intel import ComplianceChecker, Settings
from pmp_intel.analyse import render_report
from pmp_intel.db import create_db_engine
from pmp_intel.store.models import Snapshot, Source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="report file (.md, .html or .json)")
    args = parser.parse_args(argv)
    settings = Settings()
    engine = create_db_engine(settings=settings)
    with Session(engine) as session:
        snapshot_id = session.scalar(
            select(Snapshot.id)
            .join(Source)
            .where(
                Source.name == settings.source_name, Snapshot.status.in_(("complete", "partial"))
            )
            .order_by(Snapshot.id.desc())
            .limit(1)
        )
    if snapshot_id is None:
        print(f"no finished snapshot of source {settings.source_name!r}", file=sys.stderr)
        return 1
    report = ComplianceChecker(engine).evaluate(snapshot_id)
    kind = args.output.suffix.lstrip(".") or "md"
    args.output.write_text(render_report(report, kind), encoding="utf-8")
    print(f"snapshot {snapshot_id}: report written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
