"""Benchmark the legacy import at the real sizes against a plain-SQLite baseline.

    python benchmarks/legacy_import.py [--legacy-dir DIR] [--target-url URL] [--rebuild]

Builds (or reuses) full-size legacy files — 3,359 systems, 12,559 ``all_patches`` rows,
43,182 supported patches, 127,928 system reports (maia-legacy.md §1.1d, §1.3) — then, each in
a fresh process so peak RSS is its own:

* **import**: a fresh target migrated to 0001 (not timed), then the timed step: revision
  0002 with ``legacy_dir`` (``alembic -x legacy_dir=… upgrade head``), i.e. read, account,
  write, merge and commit;
* **baseline**: a fresh SQLite target migrated to 0001 (not timed), then the timed step:
  plain ``sqlite3`` ``ATTACH`` of the three files and ``INSERT … SELECT`` of the same system,
  patch and report rows into the staging tables (``json_extract`` for the raw fields, no
  merging, no accounting, no history).

Targets (issue #7): import under 60 s, peak RSS under 200 MB, within 3× of the baseline.
``--target-url`` runs the import against another database (e.g. PostgreSQL); the baseline is
always SQLite (``ATTACH`` does not exist elsewhere).
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ZONE = "Australia/Brisbane"
FILES = ("pmp_config.db", "pmp_resilient.db", "pmp_systemreports.db")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(directory: Path) -> float:
    """Write the full-size legacy folder; returns seconds taken."""
    sys.path.insert(0, str(REPO / "tests" / "legacy"))
    from builder import FULL, build_legacy_dir

    started = time.perf_counter()
    build_legacy_dir(directory, FULL, zone=ZONE)
    return time.perf_counter() - started


def child_import(legacy_dir: Path, url: str) -> dict[str, Any]:
    """Timed: revision 0002 importing ``legacy_dir`` into a target already at 0001."""
    from alembic import command

    from pmp_intel.legacy.revision import REPORT_ATTRIBUTE
    from pmp_intel.store import migrate
    from pmp_intel.store.engine import create_db_engine

    engine = create_db_engine(url)
    migrate.upgrade(engine, "0001")
    config = migrate.alembic_config(engine, legacy_dir=str(legacy_dir), legacy_timezone=ZONE)
    started = time.perf_counter()
    command.upgrade(config, "head")
    seconds = time.perf_counter() - started
    report = config.attributes[REPORT_ATTRIBUTE]
    engine.dispose()
    return {
        "seconds": seconds,
        "rss_mb": _peak_rss_mb(),
        "totals": report.totals(),
        "balanced": report.balanced,
        "written": dict(report.written),
    }


BASELINE_SQL = """
INSERT INTO sources (id, name, created_at) VALUES (1, 'baseline', '2026-01-01 00:00:00');
INSERT INTO snapshots (id, source_id, status, "trigger", started_at, records_extracted,
  requests_made) VALUES (1, 1, 'complete', 'legacy-import', '2026-01-01 00:00:00', 0, 0);
INSERT INTO stg_systems (snapshot_id, endpoint, parent_key, page, seq, resource_id,
  resource_name, branch_office_name, os_name, ip_address, resource_health_status)
SELECT 1, 'all_systems', '', 0, rowid, json_extract(raw_data, '$.resource_id'),
  json_extract(raw_data, '$.resource_name'), json_extract(raw_data, '$.branch_office_name'),
  json_extract(raw_data, '$.os_name'), json_extract(raw_data, '$.ip_address'),
  CASE WHEN json_extract(raw_data, '$.resource_health_status') IN (0, 1, 2, 3)
       THEN json_extract(raw_data, '$.resource_health_status') END
FROM cfg.all_systems WHERE json_valid(raw_data);
INSERT INTO stg_systems (snapshot_id, endpoint, parent_key, page, seq, resource_id,
  resource_name, branch_office_name, os_name, ip_address)
SELECT 1, 'scan_details', '', 0, rowid, resource_id, json_extract(raw_data, '$.resource_name'),
  json_extract(raw_data, '$.branch_office_name'), json_extract(raw_data, '$.os_name'),
  json_extract(raw_data, '$.ip_address')
FROM cfg.scan_details;
INSERT INTO stg_systems (snapshot_id, endpoint, parent_key, page, seq, resource_id,
  resource_name, os_name, ip_address)
SELECT 1, 'reports.systems', '', 0, rowid, resource_id,
  coalesce(computer_name, json_extract(raw_data, '$.resource_name')), os_name, ip_address
FROM rpt.systems;
INSERT INTO stg_systems (snapshot_id, endpoint, parent_key, page, seq, resource_id,
  resource_name, branch_office_name, os_name, ip_address)
SELECT 1, 'resilient.systems', '', 0, rowid, CAST(resource_id AS INTEGER), resource_name,
  branch_office_name, os_name, ip_address
FROM res.systems;
INSERT INTO stg_patches (snapshot_id, endpoint, parent_key, page, seq, patch_id, bulletin_id,
  patch_name, vendor_name, patch_released_time)
SELECT 1, 'all_patches', '', 0, rowid, json_extract(raw_data, '$.patch_id'), bulletin_id,
  json_extract(raw_data, '$.patch_name'), json_extract(raw_data, '$.vendor_name'),
  datetime(patch_released_time / 1000, 'unixepoch')
FROM cfg.all_patches
WHERE json_valid(raw_data) AND json_extract(raw_data, '$.patch_id') IS NOT NULL;
INSERT INTO stg_patches (snapshot_id, endpoint, parent_key, page, seq, patch_id, update_id,
  bulletin_id, vendor_name, patch_description)
SELECT 1, 'supported_patches', '', 0, rowid, patch_id, update_id, bulletin_id,
  json_extract(raw_data, '$.vendor_name'), json_extract(raw_data, '$.patch_description')
FROM cfg.supported_patches;
INSERT INTO stg_patches (snapshot_id, endpoint, parent_key, page, seq, patch_id, bulletin_id)
SELECT 1, 'missing_patches', '', 0, rowid, json_extract(raw_data, '$.patch_id'), bulletin_id
FROM cfg.missing_patches WHERE json_extract(raw_data, '$.patch_id') IS NOT NULL;
INSERT INTO stg_patches (snapshot_id, endpoint, parent_key, page, seq, patch_id, bulletin_id)
SELECT 1, 'installed_patches', '', 0, rowid, json_extract(raw_data, '$.patch_id'), bulletin_id
FROM cfg.installed_patches WHERE json_extract(raw_data, '$.patch_id') IS NOT NULL;
INSERT INTO stg_system_patch_states (snapshot_id, endpoint, parent_key, page, seq,
  resource_id, patch_id, install_status, approval_status, deployment_status,
  install_error_code, installed_time, deploy_remarks)
SELECT 1, 'system_reports', '', 0, id, resource_id,
  coalesce(patch_id, json_extract(raw_data, '$.patch_id')), patch_status,
  CASE WHEN approval_status IN (0, 211, 212) THEN approval_status END,
  CASE WHEN json_extract(raw_data, '$.deployment_status') <> '--'
       THEN json_extract(raw_data, '$.deployment_status') END,
  CASE WHEN json_extract(raw_data, '$.install_error_code') <> '--'
       THEN json_extract(raw_data, '$.install_error_code') END,
  datetime(json_extract(raw_data, '$.installed_time') / 1000, 'unixepoch'),
  json_extract(raw_data, '$.deploy_remarks')
FROM rpt.system_reports WHERE patch_status IN (201, 202, 206);
"""


def child_baseline(legacy_dir: Path, workdir: Path) -> dict[str, Any]:
    """Timed: plain sqlite3 ATTACH + INSERT … SELECT of the same rows."""
    from pmp_intel.store import migrate
    from pmp_intel.store.engine import create_db_engine

    target = workdir / "baseline.db"
    engine = create_db_engine(f"sqlite:///{target}")
    migrate.upgrade(engine, "0001")
    engine.dispose()
    started = time.perf_counter()
    conn = sqlite3.connect(target, isolation_level=None)
    for alias, name in (("cfg", FILES[0]), ("res", FILES[1]), ("rpt", FILES[2])):
        uri = (legacy_dir / name).resolve().as_uri() + "?mode=ro"
        conn.execute(f"ATTACH DATABASE '{uri}' AS {alias}")
    conn.executescript("BEGIN;\n" + BASELINE_SQL + "\nCOMMIT;")
    rows = sum(
        conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("stg_systems", "stg_patches", "stg_system_patch_states")
    )
    conn.close()
    return {"seconds": time.perf_counter() - started, "rss_mb": _peak_rss_mb(), "rows": rows}


def _run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--legacy-dir", type=Path, default=None)
    parser.add_argument("--target-url", default=None, help="import target (default: SQLite)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "import":
            result = child_import(Path(rest[0]), rest[1])
        else:
            result = child_baseline(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="pmp-legacy-bench-"))
    legacy_dir = args.legacy_dir or workdir / "legacy"
    if args.rebuild or not all((legacy_dir / f).exists() for f in FILES):
        print(f"building full-size legacy files in {legacy_dir} …", flush=True)
        print(f"  built in {build(legacy_dir):.1f} s", flush=True)
    sizes = {f: (legacy_dir / f).stat().st_size / 2**20 for f in FILES}
    print("  " + ", ".join(f"{f} {mb:.0f} MB" for f, mb in sizes.items()))

    url = args.target_url or f"sqlite:///{workdir / 'import.db'}"
    imported = _run_child("import", str(legacy_dir), url)
    baseline = _run_child("baseline", str(legacy_dir), str(workdir))

    ratio = imported["seconds"] / baseline["seconds"]
    backend = url.split(":", 1)[0]
    print()
    print(f"{'':<34}{'wall s':>10}{'peak RSS MB':>14}")
    print(
        f"{'legacy import (' + backend + ')':<34}{imported['seconds']:>10.2f}"
        f"{imported['rss_mb']:>14.0f}"
    )
    print(
        f"{'baseline (sqlite ATTACH+INSERT)':<34}{baseline['seconds']:>10.2f}"
        f"{baseline['rss_mb']:>14.0f}"
    )
    print(f"ratio import/baseline: {ratio:.2f}×  (targets: < 60 s, < 200 MB, ≤ 3×)")
    print(
        f"legacy rows read {imported['totals']['read']:,}: {imported['totals']}; "
        f"balanced={imported['balanced']}; baseline rows copied {baseline['rows']:,}"
    )
    ok = imported["seconds"] < 60 and imported["rss_mb"] < 200 and ratio <= 3
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
