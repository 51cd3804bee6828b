"""Benchmark the legacy import at the real sizes against a plain-SQLite baseline.

    python benchmarks/legacy_import.py [--legacy-dir DIR] [--target-url URL] [--repeat N]
                                       [--rebuild] [--quick]

Builds (or reuses) full-size legacy files — 3,359 systems, 12,559 ``all_patches`` rows,
43,182 supported patches, 127,928 system reports (maia-legacy.md §1.1d, §1.3) — then runs,
``--repeat`` times (default 3) and alternately, each in a fresh process so peak RSS is its
own:

* **import**: a fresh target migrated to 0001 (not timed), then the timed step: revision
  0002 with ``legacy_dir`` (``alembic -x legacy_dir=… upgrade head``), i.e. read, account,
  map, merge, write and commit;
* **baseline**: a fresh SQLite target migrated to 0001 (not timed), then the timed step:
  plain ``sqlite3`` ``ATTACH`` of the three files and ``INSERT … SELECT`` of the same system,
  patch and report rows into the staging tables (``json_extract`` for the raw fields, no
  merging, no accounting, no history).

Each run prints wall time, CPU time (all threads) and peak RSS; the summary compares the
best runs. The machine is shared: compare the ratio, not the seconds.

``--quick`` (CI, ``run_all.py``): a tenth of the real sizes, two runs of each.

Targets (issue #7): import under 60 s, peak RSS under 200 MB, within 3× of the baseline.
``main(argv)`` returns the figures (figures.py); run as a script it exits 1 when a target is
missed.
``--target-url`` imports into another database server (e.g. PostgreSQL): every run gets a
throw-away database created next to the one named in the URL and dropped afterwards (the
named one is only used to connect). The baseline is always SQLite (``ATTACH`` exists only
there).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from figures import Figure

REPO = Path(__file__).resolve().parents[1]
ZONE = "Australia/Brisbane"
FILES = ("pmp_config.db", "pmp_resilient.db", "pmp_systemreports.db")


def _peak_rss_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` would not do: it survives the exec of a
    child started from a bigger process (run_all.py), and would report the parent's."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def build(directory: Path, quick: bool = False) -> float:
    """Write the full-size (``quick``: a tenth) legacy folder; returns seconds taken."""
    sys.path.insert(0, str(REPO / "tests" / "legacy"))
    from builder import FULL, TENTH, build_legacy_dir

    started = time.perf_counter()
    build_legacy_dir(directory, TENTH if quick else FULL, zone=ZONE)
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
    started, cpu = time.perf_counter(), time.process_time()
    command.upgrade(config, "0002")  # the import alone: later schema revisions are not it
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    report = config.attributes[REPORT_ATTRIBUTE]
    engine.dispose()
    return {
        "seconds": seconds,
        "cpu": cpu,
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

    target = workdir / f"baseline-{uuid.uuid4().hex[:8]}.db"
    engine = create_db_engine(f"sqlite:///{target}")
    migrate.upgrade(engine, "0001")
    engine.dispose()
    started, cpu = time.perf_counter(), time.process_time()
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
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_mb": _peak_rss_mb(),
        "rows": rows,
    }


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


@contextmanager
def fresh_target(url: str | None, workdir: Path) -> Iterator[str]:
    """A URL of an empty target: a new SQLite file, or a throw-away database on the server
    of ``url`` (created and dropped here, as tests/conftest.py does)."""
    if url is None:
        yield f"sqlite:///{workdir / f'import-{uuid.uuid4().hex[:8]}.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    server = make_url(url)
    if server.get_backend_name() == "sqlite":
        raise SystemExit("--target-url is for a database server; SQLite is the default")
    name = f"pmp_intel_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> list[Figure]:
    """Run the benchmark, print the figures and return them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--legacy-dir", type=Path, default=None)
    parser.add_argument("--target-url", default=None, help="import target server (default: SQLite)")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each (default 3)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a tenth of the real sizes (CI)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "import":
            result = child_import(Path(rest[0]), rest[1])
        else:
            result = child_baseline(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return []

    workdir = Path(tempfile.mkdtemp(prefix="pmp-legacy-bench-"))
    try:
        return _measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(args: argparse.Namespace, workdir: Path) -> list[Figure]:
    """Build (or reuse) the legacy folder, run import and baseline, return the figures."""
    legacy_dir = args.legacy_dir or workdir / "legacy"
    if args.rebuild or not all((legacy_dir / f).exists() for f in FILES):
        size = "a tenth of the real sizes" if args.quick else "full-size"
        print(f"building {size} legacy files in {legacy_dir} …", flush=True)
        print(f"  built in {build(legacy_dir, args.quick):.1f} s", flush=True)
    sizes = {f: (legacy_dir / f).stat().st_size / 2**20 for f in FILES}
    print("  " + ", ".join(f"{f} {mb:.0f} MB" for f, mb in sizes.items()))
    backend = "sqlite" if args.target_url is None else args.target_url.split(":", 1)[0]
    repeat = args.repeat or (2 if args.quick else 3)

    imports: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    print()
    print(
        f"{'run':<5}{'import wall s':>14}{'cpu s':>8}{'RSS MB':>8}"
        f"{'baseline wall s':>17}{'cpu s':>8}{'RSS MB':>8}{'ratio':>8}"
    )
    for run in range(1, max(1, repeat) + 1):
        with fresh_target(args.target_url, workdir) as url:
            imports.append(_run_child("import", str(legacy_dir), url))
        baselines.append(_run_child("baseline", str(legacy_dir), str(workdir)))
        i, b = imports[-1], baselines[-1]
        print(
            f"{run:<5}{i['seconds']:>14.2f}{i['cpu']:>8.2f}{i['rss_mb']:>8.0f}"
            f"{b['seconds']:>17.2f}{b['cpu']:>8.2f}{b['rss_mb']:>8.0f}"
            f"{i['seconds'] / b['seconds']:>7.2f}×",
            flush=True,
        )

    best_import = min(imports, key=lambda r: r["seconds"])
    best_baseline = min(baselines, key=lambda r: r["seconds"])
    ratio = best_import["seconds"] / best_baseline["seconds"]
    cpu_ratio = min(r["cpu"] for r in imports) / min(r["cpu"] for r in baselines)
    rss = max(r["rss_mb"] for r in imports)
    print()
    print(
        f"best of {len(imports)}: legacy import ({backend}) {best_import['seconds']:.2f} s wall, "
        f"baseline {best_baseline['seconds']:.2f} s wall: ratio {ratio:.2f}× "
        f"(CPU ratio {cpu_ratio:.2f}×); peak RSS {rss:.0f} MB"
    )
    print("targets: < 60 s, < 200 MB, ≤ 3× the baseline")
    print(
        f"legacy rows read {best_import['totals']['read']:,}: {best_import['totals']}; "
        f"balanced={best_import['balanced']}; baseline rows copied {best_baseline['rows']:,}"
    )
    scale = "a tenth of the real sizes" if args.quick else "real sizes"
    figures = [
        Figure(
            f"legacy import wall time, {backend} target",
            "≤ 3x baseline, < 60 s (issue 7)",
            best_import["seconds"],
            "s",
            ratio=ratio,
            gated=True,
            note=scale,
        ),
        Figure(
            f"legacy import CPU time, {backend} target",
            "reported",
            min(r["cpu"] for r in imports),
            "s",
            ratio=cpu_ratio,
            ratio_of="baseline CPU",
        ),
        Figure(
            f"legacy import peak RSS, {backend} target",
            "< 200 MB (issue 7)",
            rss,
            "MB",
            ratio=rss / 200,
            ratio_of="target",
        ),
    ]
    met = best_import["seconds"] < 60 and rss < 200 and ratio <= 3
    print("targets met" if met else "TARGETS MISSED")
    return figures


def targets_met(figures: list[Figure]) -> bool:
    """Whether the figures of :func:`main` meet issue 7's targets."""
    wall, _cpu, rss = figures
    return (
        wall.value is not None
        and wall.value < 60
        and wall.ratio is not None
        and wall.ratio <= 3
        and rss.value is not None
        and rss.value < 200
    )


if __name__ == "__main__":
    results = main()
    sys.exit(0 if not results or targets_met(results) else 1)
