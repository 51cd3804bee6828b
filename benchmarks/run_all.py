"""Run every benchmark, print one table of their figures and write it to results.md; in CI,
check the gated ratios against reference.json.

    python benchmarks/run_all.py                   # full run (tens of minutes): writes results.md
    python benchmarks/run_all.py --quick           # CI-sized run (about a minute), writes nothing
    python benchmarks/run_all.py --quick --check benchmarks/reference.json       # what .ci/run does
    python benchmarks/run_all.py --quick --update-reference --runs 3            # a new reference
    python benchmarks/run_all.py --only analyse service \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test                # PostgreSQL variants

Each benchmark module's ``main(argv)`` returns its figures (see figures.py). ``--quick`` is
passed to every benchmark and ``--url`` to those that take a database server; the others run
as they always do. With ``--check``, a gated ratio worse than its reference by more than 30 %
has its benchmark re-measured once; if it is still worse, it is a regression: one line each,
exit 1. A benchmark that crashes also makes the run exit 1.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import inspect
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the benchmarks import figures.py as a top-level module
    sys.path.insert(0, str(HERE))

from figures import Figure, render_markdown, render_text  # noqa: E402

#: A gated ratio may be this much worse than its reference before it is a regression.
TOLERANCE = 1.30
DEFAULT_REFERENCE = HERE / "reference.json"
DEFAULT_RESULTS = HERE / "results.md"
REGENERATE = "python benchmarks/run_all.py --quick --update-reference --runs 3"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script of this folder, and the option it takes a database URL by."""

    name: str
    url_option: str | None = None

    @property
    def path(self) -> Path:
        """The script."""
        return HERE / f"{self.name}.py"

    def argv(self, quick: bool, url: str | None) -> list[str]:
        """The arguments its ``main`` gets for this run."""
        argv = ["--quick"] if quick else []
        if url is not None and self.url_option is not None:
            argv += [self.url_option, url]
        return argv


BENCHMARKS = (
    Benchmark("extract"),
    Benchmark("legacy_import", "--target-url"),
    Benchmark("analyse", "--url"),
    Benchmark("service", "--url"),
    Benchmark("simulator"),
)
BY_NAME = {b.name: b for b in BENCHMARKS}


@dataclass
class Outcome:
    """What one run of one benchmark gave."""

    figures: list[Figure]
    seconds: float = 0.0
    failed: bool = False


#: Runs one benchmark: (benchmark, quick, url) → its outcome; never raises.
Runner = Callable[[Benchmark, bool, "str | None"], Outcome]


# ------------------------------------------------------------------------ running benchmarks


def load_main(benchmark: Benchmark) -> Callable[..., object]:
    """Import the benchmark's script (not as ``__main__``) and return its ``main``."""
    spec = importlib.util.spec_from_file_location(f"pmp_bench_{benchmark.name}", benchmark.path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {benchmark.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is executed
    spec.loader.exec_module(module)
    main: Callable[..., object] = module.main
    return main


def accepts_argv(main: Callable[..., object]) -> bool:
    """Whether ``main`` takes an argument list (``main(argv)``), not only ``sys.argv``."""
    return bool(inspect.signature(main).parameters)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else '(no message)'}"


def run_benchmark(benchmark: Benchmark, quick: bool, url: str | None) -> Outcome:
    """Run one benchmark in this process; a crash becomes a figure saying so."""
    argv = benchmark.argv(quick, url)
    started = time.perf_counter()
    try:
        main = load_main(benchmark)
        if accepts_argv(main):
            returned = main(argv)
        elif argv:
            note = f"its main() takes no arguments, so {' '.join(argv)} cannot be passed"
            return Outcome([Figure(f"{benchmark.name}: not run", "—", None, note=note)])
        else:
            saved, sys.argv = sys.argv, [str(benchmark.path)]
            try:
                returned = main()
            finally:
                sys.argv = saved
    except SystemExit as exit_:
        if exit_.code in (0, None):
            returned = None
        else:
            return _failed(benchmark, f"exited with {str(exit_.code).splitlines()[0]}", started)
    except Exception as error:
        traceback.print_exc()
        return _failed(benchmark, _one_line(error), started)
    finally:
        gc.collect()
    return Outcome(to_figures(benchmark.name, returned), time.perf_counter() - started)


def _failed(benchmark: Benchmark, why: str, started: float) -> Outcome:
    figure = Figure(f"{benchmark.name}: failed", "—", None, note=why)
    return Outcome([figure], time.perf_counter() - started, failed=True)


MEASURED = re.compile(r"^\s*([-+]?\d[\d,]*(?:\.\d+)?)\s*(.*?)\s*$")
RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([x×])?\s*$")


def figure_from_row(row: tuple[str, str, str, str]) -> Figure:
    """A ``(figure, target, measured, ratio)`` row of text as a :class:`Figure`.

    ``"3.7 s"`` gives 3.7 and ``s``; a ratio ``"2.19x"`` gives 2.19, gated when the target
    mentions the baseline; a bare number is a ratio shown but never gated.
    """
    name, target, measured, ratio_text = row
    number = MEASURED.match(measured)
    value = float(number[1].replace(",", "")) if number else None
    ratio = RATIO.match(ratio_text)
    gated = bool(ratio and ratio[2]) and "baseline" in target.lower()
    return Figure(
        name,
        target,
        value,
        number[2] if number else "",
        ratio=float(ratio[1]) if ratio else None,
        ratio_of="baseline" if gated else "",
        gated=gated,
        note="" if number else measured,
    )


def to_figures(benchmark: str, returned: object) -> list[Figure]:
    """What a ``main`` returned, as figures: a list of :class:`Figure` or of 4-tuples of text;
    anything else gives one figure saying no figures were returned."""
    figures: list[Figure] = []
    if isinstance(returned, list | tuple):
        for item in returned:
            if isinstance(item, Figure):
                figures.append(item)
            elif (
                isinstance(item, tuple) and len(item) == 4 and all(isinstance(c, str) for c in item)
            ):
                figures.append(figure_from_row(item))
            else:
                figures = []
                break
    if figures:
        return figures
    shown = repr(returned)
    shown = shown if len(shown) <= 60 else shown[:57] + "…"
    return [
        Figure(f"{benchmark}: no figures returned", "—", None, note=f"its main() returned {shown}")
    ]


def run_benchmarks(
    selected: Sequence[Benchmark], quick: bool, url: str | None, run: Runner
) -> dict[str, Outcome]:
    """Run each benchmark in turn, announcing it; the outcomes by benchmark name."""
    outcomes: dict[str, Outcome] = {}
    for benchmark in selected:
        shown = " ".join(["python", f"benchmarks/{benchmark.name}.py", *benchmark.argv(quick, url)])
        print(f"\n### {shown}", flush=True)
        outcomes[benchmark.name] = run(benchmark, quick, url)
        print(f"### {benchmark.name}: {outcomes[benchmark.name].seconds:.0f} s", flush=True)
    return outcomes


def all_figures(outcomes: Mapping[str, Outcome]) -> list[Figure]:
    """Every figure, in benchmark order."""
    return [f for outcome in outcomes.values() for f in outcome.figures]


# ------------------------------------------------------------------------ the reference


class ReferenceError(ValueError):
    """reference.json is missing, malformed or of the other kind of run (one-line message)."""


@dataclass(frozen=True)
class ReferenceRatio:
    """The committed ratio of one gated figure."""

    benchmark: str
    ratio: float
    higher_is_better: bool = False

    @property
    def limit(self) -> float:
        """The worst ratio still accepted."""
        return self.ratio / TOLERANCE if self.higher_is_better else self.ratio * TOLERANCE

    def regressed(self, measured: float) -> bool:
        """Whether ``measured`` is worse than the reference by more than the tolerance."""
        return measured < self.limit if self.higher_is_better else measured > self.limit


@dataclass(frozen=True)
class Reference:
    """reference.json: the gated ratios of one kind of run (quick or full)."""

    quick: bool
    ratios: dict[str, ReferenceRatio]
    about: dict[str, Any] = field(default_factory=dict)


def load_reference(path: Path) -> Reference:
    """Read and validate reference.json; :class:`ReferenceError` says what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceError(f"{path}: no such file (create it with {REGENERATE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReferenceError(f"{path}: not readable JSON ({_one_line(error)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("quick"), bool):
        raise ReferenceError(f'{path}: expected an object with "quick": true or false')
    figures = document.get("figures")
    if not isinstance(figures, dict) or not figures:
        raise ReferenceError(f'{path}: "figures" must be a non-empty object of gated figures')
    ratios: dict[str, ReferenceRatio] = {}
    for name, entry in figures.items():
        if not isinstance(entry, dict):
            raise ReferenceError(f"{path}: figure {name!r} must be an object")
        ratio, benchmark = entry.get("ratio"), entry.get("benchmark")
        if isinstance(ratio, bool) or not isinstance(ratio, int | float):
            raise ReferenceError(f'{path}: figure {name!r} has no numeric "ratio"')
        if not (math.isfinite(ratio) and ratio > 0):
            raise ReferenceError(f"{path}: figure {name!r}: ratio must be > 0, not {ratio}")
        if benchmark not in BY_NAME:
            raise ReferenceError(
                f'{path}: figure {name!r}: "benchmark" must be one of {", ".join(BY_NAME)}'
            )
        higher = entry.get("higher_is_better", False)
        if not isinstance(higher, bool):
            raise ReferenceError(f"{path}: figure {name!r}: higher_is_better must be true/false")
        ratios[name] = ReferenceRatio(str(benchmark), float(ratio), higher)
    about = {k: v for k, v in document.items() if k not in ("quick", "figures")}
    return Reference(document["quick"], ratios, about)


def worst_ratios(runs: Iterable[Mapping[str, Outcome]]) -> dict[str, ReferenceRatio]:
    """The worst ratio of each gated figure over several runs: a reference that does not
    flake on an ordinary bad run."""
    worst: dict[str, ReferenceRatio] = {}
    for outcomes in runs:
        for benchmark, outcome in outcomes.items():
            for figure in outcome.figures:
                if not figure.gated or figure.ratio is None:
                    continue
                seen = worst.get(figure.name)
                pick = min if figure.higher_is_better else max
                ratio = figure.ratio if seen is None else pick(seen.ratio, figure.ratio)
                worst[figure.name] = ReferenceRatio(benchmark, ratio, figure.higher_is_better)
    return worst


def reference_document(
    ratios: Mapping[str, ReferenceRatio],
    quick: bool,
    made: Mapping[str, Any],
    kept: Mapping[str, ReferenceRatio] | None = None,
) -> dict[str, Any]:
    """The JSON of reference.json: ``ratios`` over ``kept`` (entries of benchmarks not run)."""
    merged = {**(kept or {}), **ratios}
    return {
        "about": (
            f"Gated benchmark ratios of `python benchmarks/run_all.py{' --quick' if quick else ''}`"
            f", the worst of {made.get('runs', 1)} run(s) on the machine below (worst, so that "
            "an ordinary noisy run does not fail CI). `--check` fails when a ratio is more than "
            f"30 % worse than its reference twice in a row. Regenerate: {REGENERATE}"
        ),
        "quick": quick,
        "made": dict(made),
        "figures": {
            name: {
                "benchmark": r.benchmark,
                "ratio": round(r.ratio, 3),
                "higher_is_better": r.higher_is_better,
            }
            for name, r in sorted(merged.items())
        },
    }


# ------------------------------------------------------------------------ the check


@dataclass(frozen=True)
class Regression:
    """A gated figure worse than its reference by more than the tolerance, or missing."""

    figure: str
    reference: ReferenceRatio
    measured: float | None

    def line(self) -> str:
        """One line naming the figure, the reference and the measured ratio."""
        got = "missing from this run" if self.measured is None else f"{self.measured:.2f}x"
        bound = "≥" if self.reference.higher_is_better else "≤"
        return (
            f"REGRESSION {self.figure} ({self.reference.benchmark}): reference "
            f"{self.reference.ratio:.2f}x, measured {got} (allowed {bound} "
            f"{self.reference.limit:.2f}x)"
        )


def find_regressions(outcomes: Mapping[str, Outcome], reference: Reference) -> list[Regression]:
    """Gated figures of the benchmarks run that are missing or beyond the tolerance."""
    gated = {f.name: f.ratio for f in all_figures(outcomes) if f.gated and f.ratio is not None}
    found = []
    for name, ref in reference.ratios.items():
        if ref.benchmark not in outcomes:
            continue  # not run this time (--only)
        measured = gated.get(name)
        if measured is None or ref.regressed(measured):
            found.append(Regression(name, ref, measured))
    return found


def unreferenced(outcomes: Mapping[str, Outcome], reference: Reference) -> list[str]:
    """Gated figures the reference does not know yet (reported, not failed)."""
    return [f.name for f in all_figures(outcomes) if f.gated and f.name not in reference.ratios]


def check(
    outcomes: dict[str, Outcome],
    reference: Reference,
    remeasure: Callable[[str], Outcome],
) -> list[Regression]:
    """The regressions that survive one re-measurement of their benchmark.

    Each benchmark with a failing gated figure is run once more (``remeasure(name)``, which
    replaces its outcome in ``outcomes``); a figure is a regression only if it fails both times.
    """
    first = find_regressions(outcomes, reference)
    for benchmark in dict.fromkeys(r.reference.benchmark for r in first):
        names = ", ".join(r.figure for r in first if r.reference.benchmark == benchmark)
        print(f"\n### re-measuring {benchmark} once: {names}", flush=True)
        outcomes[benchmark] = remeasure(benchmark)
    again = {r.figure: r for r in find_regressions(outcomes, reference)}
    return [again[r.figure] for r in first if r.figure in again]


# ------------------------------------------------------------------------ the machine, results.md


def machine() -> str:
    """CPU model, core count, OS and Python of this machine."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1, 5 and 15-minute load averages."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def commit() -> str:
    """The checkout's commit, ``+ uncommitted changes`` when the tree is dirty."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


@dataclass(frozen=True)
class RunInfo:
    """Where and when a run happened, for results.md and reference.json."""

    command: str
    date: str
    machine: str
    load_start: str
    load_end: str
    commit: str
    database: str
    note: str = ""


def results_markdown(figures: Sequence[Figure], info: RunInfo, timings: Mapping[str, float]) -> str:
    """results.md: the table with when, where and on how loaded a machine it was made."""
    took = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{info.command}` (see [docs/benchmarks.md](../docs/benchmarks.md)). CI "
        "does not write this file: it runs `--quick` and checks the gated ratios against "
        "`reference.json`.",
        "",
        f"- Date: {info.date}",
        f"- Machine: {info.machine}",
        f"- Load average (1 / 5 / 15 min): {info.load_start} at the start, {info.load_end} at "
        f"the end, on {os.cpu_count()} cores. The run itself accounts for about 1–2; more is "
        "other work sharing the machine, which makes absolute times noisy. Ratios are measured "
        "within the same run.",
        f"- Commit: {info.commit}",
        f"- Database: {info.database}",
        f"- Time per benchmark: {took}",
    ]
    if info.note:
        lines.append(f"- Note: {info.note}")
    lines += ["", render_markdown(figures).rstrip(), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------ main


def _shown_args(argv: list[str] | None) -> list[str]:
    """The command-line arguments without ``--note`` (results.md shows the note on its own)."""
    shown: list[str] = []
    skip = False
    for arg in argv if argv is not None else sys.argv[1:]:
        if skip or arg.startswith("--note="):
            skip = False
        elif arg == "--note":
            skip = True
        else:
            shown.append(arg)
    return shown


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="CI-sized run of every benchmark")
    parser.add_argument("--only", nargs="+", choices=list(BY_NAME), help="run these benchmarks")
    parser.add_argument(
        "--url", help="PostgreSQL server URL for the benchmarks that take one (default: SQLite)"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check", type=Path, metavar="REFERENCE", help="fail on a gated ratio > reference × 1.30"
    )
    action.add_argument(
        "--update-reference",
        type=Path,
        nargs="?",
        const=DEFAULT_REFERENCE,
        metavar="REFERENCE",
        help=f"rewrite the reference from this run (default {DEFAULT_REFERENCE.name})",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="with --update-reference: runs, the worst ratio kept"
    )
    parser.add_argument(
        "--results",
        type=Path,
        help=f"write the table here (default: {DEFAULT_RESULTS.name}, but none on --quick)",
    )
    parser.add_argument("--note", default="", help="a line of context for results.md")
    return parser


def main(argv: list[str] | None = None, run: Runner = run_benchmark) -> int:
    """Run the benchmarks, print the table; 0 = all well, 1 = a regression or a crash, 2 = bad
    usage or reference."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs < 1 or (args.runs > 1 and args.update_reference is None):
        parser.error("--runs N (N ≥ 1) goes with --update-reference")
    reference = None
    if args.check is not None:
        try:
            reference = load_reference(args.check)
        except ReferenceError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if reference.quick != args.quick:
            kind = "quick (--quick)" if reference.quick else "full (without --quick)"
            print(f"error: {args.check} holds ratios of {kind} runs", file=sys.stderr)
            return 2
    selected = [BY_NAME[n] for n in args.only] if args.only else list(BENCHMARKS)
    info_start = (load_average(), datetime.now(UTC))
    runs = [run_benchmarks(selected, args.quick, args.url, run) for _ in range(args.runs)]
    outcomes = runs[-1]
    regressions: list[Regression] = []
    if reference is not None:
        by_name = {b.name: b for b in selected}
        regressions = check(
            outcomes, reference, lambda name: run(by_name[name], args.quick, args.url)
        )
    figures = all_figures(outcomes)
    crashed = sorted({name for o in runs for name, out in o.items() if out.failed})
    print("\n" + render_text(figures), end="")
    for name in crashed:
        print(f"FAILED benchmark {name}: see its output above")

    info = RunInfo(
        command=shlex.join(["python", "benchmarks/run_all.py", *_shown_args(argv)]),
        date=info_start[1].strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
        load_start=info_start[0],
        load_end=load_average(),
        commit=commit(),
        database=f"{args.url.split(':', 1)[0]} where a benchmark takes --url, else SQLite"
        if args.url
        else "SQLite (temporary files)",
        note=args.note,
    )
    results = args.results or (None if args.quick else DEFAULT_RESULTS)
    if results is not None:
        timings = {name: outcome.seconds for name, outcome in outcomes.items()}
        results.write_text(results_markdown(figures, info, timings), encoding="utf-8")
        print(f"wrote {results}")
    if args.update_reference is not None:
        if crashed:
            print(f"reference not written: {', '.join(crashed)} failed", file=sys.stderr)
            return 1
        kept: dict[str, ReferenceRatio] = {}
        if args.update_reference.exists():
            try:
                old = load_reference(args.update_reference)
                if old.quick == args.quick:
                    ran = {b.name for b in selected}
                    kept = {n: r for n, r in old.ratios.items() if r.benchmark not in ran}
            except ReferenceError:
                pass  # replaced wholesale
        made = {
            "date": info.date,
            "machine": info.machine,
            "load_average_start": info.load_start,
            "load_average_end": info.load_end,
            "commit": info.commit,
            "runs": args.runs,
        }
        document = reference_document(worst_ratios(runs), args.quick, made, kept)
        args.update_reference.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.update_reference} ({len(document['figures'])} gated figures)")
    if reference is not None:
        for name in unreferenced(outcomes, reference):
            print(f"note: gated figure {name!r} is not in {args.check} yet ({REGENERATE})")
        for regression in regressions:
            print(regression.line())
        if not regressions:
            print(
                f"benchmarks: {sum(f.gated for f in figures)} gated ratios within 30 % of "
                f"{args.check}"
            )
    return 1 if regressions or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
