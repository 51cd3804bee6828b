"""Extraction speed and memory against a minimal baseline, in the same run.

The simulator serves the estate from this process; the extractor (``python -m pmp_intel
extract``) and the baseline each run in a child process of their own, so their peak RSS is
theirs alone. The baseline replays exactly the requests the extractor made, with plain
``requests`` and ``sqlite3`` ``executemany`` of each page's records as JSON text, without
validation, normalisation, history or checkpoints: what the same bytes cost at the minimum.

A second scenario checks throughput under a rate limit: 150 ms of simulated latency,
``PMP_RATE_LIMIT=20``, ``PMP_CONCURRENCY=8``, a per-system fan-out; the achieved request rate
should reach at least 90 % of the limit.

    python benchmarks/extract.py [--systems 3362] [--rate-systems 300] [--quick]

Targets (issue 5): peak RSS under 100 MB; wall time within 2x the baseline's; request rate
at least 90 % of PMP_RATE_LIMIT.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from figures import Figure

from pmp_intel.testing import simulated_pmp

REPO = Path(__file__).resolve().parents[1]
TOKEN_PATH = "/oauth/v2/token"

BASELINE = r"""
import json, sqlite3, sys, requests
requests_file, db_path, token = sys.argv[1:4]
calls = json.load(open(requests_file))
db = sqlite3.connect(db_path)
db.execute("CREATE TABLE records (endpoint TEXT, page INTEGER, body TEXT)")
session = requests.Session()
session.headers["Authorization"] = token
records = 0
for base, path, params in calls:
    document = session.get(base + path, params=params, timeout=120).json()
    response = document.get("message_response", {})
    items = next((v for v in response.values() if isinstance(v, list)), [response])
    db.executemany("INSERT INTO records VALUES (?, ?, ?)",
                   [(path, params.get("page", 1), json.dumps(item)) for item in items])
    db.commit()
    records += len(items)
print(records)
"""


@dataclass
class Measured:
    """Wall time and peak RSS of one child process."""

    wall_s: float
    rss_mb: float
    stdout: str
    stderr: str
    returncode: int
    cpu_s: float = 0.0


#: Runs a module or script, then reports its own peak RSS. ``ru_maxrss`` would not do: it
#: survives exec, so a child forked from this (simulator-hosting) process would report the
#: parent's size; ``VmHWM`` belongs to the new program image alone.
MEASURE = """
import runpy, sys
def peak():
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write("\\nCPU_S=%.3f\\n" % (usage.ru_utime + usage.ru_stime))
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("\\nPEAK_RSS_KB=%s\\n" % line.split()[1]); sys.stderr.flush()
target, sys.argv = sys.argv[1], sys.argv[1:]
try:
    if target.endswith(".py"):
        runpy.run_path(target, run_name="__main__")
    else:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
finally:
    peak()
"""


def run_child(argv: list[str], env: dict[str, str]) -> Measured:
    """Run ``argv`` (``[module-or-script, args…]``) under the measuring wrapper."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", MEASURE, *argv], env=env, stdout=out, stderr=err, text=True
        )
        code = process.wait()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stderr = err.read()
        peak_kb = next(
            (
                int(line.split("=", 1)[1])
                for line in reversed(stderr.splitlines())
                if line.startswith("PEAK_RSS_KB=")
            ),
            0,
        )
        cpu = next(
            (
                float(line.split("=", 1)[1])
                for line in reversed(stderr.splitlines())
                if line.startswith("CPU_S=")
            ),
            0.0,
        )
        return Measured(wall, peak_kb / 1024, out.read(), stderr, code, cpu)


def extractor_env(pmp: Any, database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMP_", "SLACK_"))}
    env.update(
        PMP_INTEL_DATABASE_URL=f"sqlite:///{database}",
        PMP_BASE_URL=pmp.base_url,
        PMP_AUTH="token",
        PMP_TOKEN=pmp.credentials["token"],
        PMP_RATE_LIMIT="100000",
        PMP_INTEL_LOG_FORMAT="json",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def finished_event(stderr: str) -> dict[str, Any]:
    for line in reversed(stderr.splitlines()):
        if '"snapshot_finished"' in line:
            event: dict[str, Any] = json.loads(line)
            return event
    raise RuntimeError("the extractor did not finish:\n" + stderr[-2000:])


def _migrated(database: Path, env: dict[str, str]) -> dict[str, str]:
    """Create ``database`` at the newest schema (untimed): cron runs meet a migrated one."""
    done = subprocess.run(
        [sys.executable, "-m", "pmp_intel", "db", "upgrade"], env=env, capture_output=True
    )
    if done.returncode:
        raise RuntimeError(done.stderr.decode()[-2000:])
    return env


def speed(systems: int, workdir: Path, runs: int) -> list[Figure]:
    """Default estate, zero latency: extractor vs baseline, best of ``runs`` each.

    The timed extractions write into a database already at the newest schema, as every run
    after the first does; the first run (into an empty file, schema created by the run
    itself) is printed on a line of its own.
    """
    with simulated_pmp(systems=systems, seed=7, auth="token") as pmp:
        list(pmp.records("summary"))  # build the estate's aggregates before timing
        pmp.request_log.clear()
        first = run_child(
            ["pmp_intel", "extract", "--no-analysis"], extractor_env(pmp, workdir / "extract-0.db")
        )
        event = finished_event(first.stderr)
        calls = [
            (pmp.base_url, r.path, r.params)
            for r in list(pmp.request_log)
            if not r.path.endswith(TOKEN_PATH) and r.status == 200
        ]
        (workdir / "calls.json").write_text(json.dumps(calls))
        (workdir / "baseline.py").write_text(BASELINE)
        ours: list[Measured] = []
        base: list[Measured] = []
        full: list[Measured] = []
        for i in range(runs):  # interleaved, each on a fresh database
            env = _migrated(
                workdir / f"extract-{i + 1}.db", extractor_env(pmp, workdir / f"extract-{i + 1}.db")
            )
            ours.append(run_child(["pmp_intel", "extract", "--no-analysis"], env))
            base.append(
                run_child(
                    [
                        str(workdir / "baseline.py"),
                        str(workdir / "calls.json"),
                        str(workdir / f"baseline-{i}.db"),
                        pmp.credentials["token"],
                    ],
                    {**os.environ, "PYTHONPATH": str(REPO)},
                )
            )
            # the same extraction with metrics + compliance, as cron runs it by default
            env = _migrated(workdir / f"full-{i}.db", extractor_env(pmp, workdir / f"full-{i}.db"))
            full.append(run_child(["pmp_intel", "extract"], env))
    for measured in (first, *ours, *base, *full):
        if measured.returncode != 0:
            raise RuntimeError(measured.stderr[-2000:])
    o, b, f = (_best(m) for m in (ours, base, full))
    records, requests_ = int(event["records"]), int(event["requests"])
    ratio, cpu_ratio = o.wall_s / b.wall_s, o.cpu_s / max(b.cpu_s, 1e-9)
    print(f"\nExtraction, {systems:,} systems, zero latency, best of {runs}")
    print(
        f"{'':<24}{'wall s':>8}{'CPU s':>8}{'records/s':>11}{'requests/s':>12}{'peak RSS MB':>13}"
    )
    for label, m in (
        ("pmp-intel extract", o),
        ("  + metrics, E8", f),
        ("  first run, + schema", first),
        ("baseline", b),
    ):
        print(
            f"{label:<24}{m.wall_s:>8.1f}{m.cpu_s:>8.1f}{records / m.wall_s:>11,.0f}"
            f"{requests_ / m.wall_s:>12.1f}{m.rss_mb:>13.1f}"
        )
    print(
        f"ratio to baseline: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x (target ≤ 2.0); "
        f"peak RSS {o.rss_mb:.0f} MB (target < 100)"
    )
    return [
        Figure(
            "extract wall time",
            "≤ 2.0x baseline",
            o.wall_s,
            "s",
            ratio=ratio,
            gated=True,
            note=f"{systems:,} systems",
        ),
        Figure("extract CPU time", "—", o.cpu_s, "s", ratio=cpu_ratio, gated=True),
        Figure("extract peak RSS", "< 100 MB", o.rss_mb, "MB", ratio=o.rss_mb / b.rss_mb),
        Figure("extract + metrics + E8, wall time", "—", f.wall_s, "s", ratio=f.wall_s / b.wall_s),
    ]


def _best(measured: list[Measured]) -> Measured:
    fastest = min(measured, key=lambda m: m.wall_s)
    return Measured(
        fastest.wall_s,
        max(m.rss_mb for m in measured),
        fastest.stdout,
        fastest.stderr,
        fastest.returncode,
        min(m.cpu_s for m in measured),
    )


def rate(systems: int, workdir: Path) -> list[Figure]:
    """150 ms latency, 20 requests/s, 8 in parallel: how close to the limit?"""
    with simulated_pmp(systems=systems, seed=7, auth="token", faults="latency=150") as pmp:
        env = extractor_env(pmp, workdir / "rate.db", PMP_RATE_LIMIT="20", PMP_CONCURRENCY="8")
        run = run_child(
            [
                "pmp_intel",
                "extract",
                "--endpoints",
                "allsystems,systemreport",
            ],
            env,
        )
        event = finished_event(run.stderr)
        log = [r for r in pmp.request_log if "systemreport" in r.path]
    achieved = float(event["requests"]) / float(event["duration_s"])
    share = achieved / 20
    print(f"\nRate limit, {systems:,} systems, 150 ms latency, limit 20/s, concurrency 8")
    print(
        f"{event['requests']} requests in {event['duration_s']} s (fan-out {len(log)}): "
        f"{achieved:.1f}/s = {share:.0%} of the limit (target ≥ 90 %)"
    )
    return [
        Figure(
            "request rate under PMP_RATE_LIMIT=20",
            "≥ 90 % of the limit",
            achieved,
            "req/s",
            ratio=share,
            ratio_of="limit",
            higher_is_better=True,
        )
    ]


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=3362)
    parser.add_argument("--rate-systems", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (best kept)")
    parser.add_argument("--quick", action="store_true", help="small estate (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.systems, args.rate_systems, args.runs = 600, 80, 1
    with tempfile.TemporaryDirectory(prefix="pmp-bench-") as tmp:
        rows = speed(args.systems, Path(tmp), args.runs)
        rows += rate(args.rate_systems, Path(tmp))
    return rows


if __name__ == "__main__":
    main()
