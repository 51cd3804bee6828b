"""benchmarks/run_all.py: figures and tables, the reference file, the 30 % rule and the
re-measure-once rule, with injected runners (no real benchmark runs here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"


def _load_run_all() -> ModuleType:
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("bench_run_all", BENCHMARKS / "run_all.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved  # benchmarks/ must not shadow anything for other tests
    return module


run_all = _load_run_all()
Figure = run_all.Figure
Outcome = run_all.Outcome


def gated(name: str, ratio: float, higher_is_better: bool = False) -> Any:
    return Figure(
        name, "≤ 2x baseline", 1.0, "s", ratio=ratio, gated=True, higher_is_better=higher_is_better
    )


def reference(quick: bool = True, **ratios: tuple[str, float]) -> Any:
    return run_all.Reference(
        quick, {name: run_all.ReferenceRatio(bench, r) for name, (bench, r) in ratios.items()}
    )


# ------------------------------------------------------------------------ figures and tables


def test_a_figure_shows_its_value_ratio_and_gate() -> None:
    figure = Figure("extract wall", "≤ 2x baseline", 3.7, "s", ratio=1.853, gated=True)
    assert figure.cells() == ("extract wall", "≤ 2x baseline", "3.70 s", "1.85x baseline", "yes")
    plain = Figure("rss", "reported", 1460.4, "MB")
    assert plain.cells() == ("rss", "reported", "1,460 MB", "—", "")
    missing = Figure("legacy_import: no figures returned", "—", None, note="it returned 1")
    assert missing.measured == "it returned 1"
    assert Figure("x", "t", 0.0123, "ms").measured == "0.0123 ms"
    assert Figure("x", "t", 3.8, "s", note="600 systems").measured == "3.80 s (600 systems)"


@pytest.mark.parametrize(
    "kwargs",
    [{"gated": True}, {"ratio": -1.0}, {"ratio": float("nan")}, {"ratio": float("inf")}],
)
def test_a_figure_refuses_a_gate_without_ratio_or_a_bad_ratio(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="ratio"):
        Figure("x", "t", 1.0, "s", **kwargs)


def test_the_text_table_aligns_its_columns() -> None:
    figures = [gated("a", 1.5), Figure("a much longer figure name", "reported", 12.34, "MB")]
    lines = run_all.render_text(figures).splitlines()
    assert lines[0].split() == ["figure", "target", "measured", "ratio", "CI", "gate"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 4
    column = lines[0].index("target")
    assert all(line[column - 2 : column] == "  " for line in lines)
    assert lines[2][column:].startswith("≤ 2x baseline")
    assert lines[3][column:].startswith("reported")


def test_the_markdown_table_escapes_pipes() -> None:
    table = run_all.render_markdown(
        [Figure("a | b", "< 50 ms", 3.0, "ms", ratio=0.06, ratio_of="target")]
    )
    lines = table.splitlines()
    assert lines[0] == "| figure | target | measured | ratio | CI gate |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2] == "| a \\| b | < 50 ms | 3.00 ms | 0.06x target |  |"


# ------------------------------------------------------------------------ what a main returns


@pytest.mark.parametrize(
    ("row", "value", "unit", "ratio", "is_gated"),
    [
        (("extract wall", "≤ 2.0x baseline", "3.7 s", "2.19x"), 3.7, "s", 2.19, True),
        (("extract peak RSS", "< 100 MB", "94 MB", "2.54x"), 94.0, "MB", 2.54, False),
        (("rate", "≥ 90 % of limit", "15.0 /s", "0.75"), 15.0, "/s", 0.75, False),
        (("rows", "≤ 3× baseline", "1,460 rows", "10.7×"), 1460.0, "rows", 10.7, True),
        (("odd", "≤ 2x baseline", "n/a", "—"), None, "", None, False),
    ],
)
def test_rows_of_text_become_figures(
    row: tuple[str, str, str, str],
    value: float | None,
    unit: str,
    ratio: float | None,
    is_gated: bool,
) -> None:
    figure = run_all.figure_from_row(row)
    assert (figure.name, figure.target) == row[:2]
    assert (figure.value, figure.unit, figure.ratio, figure.gated) == (value, unit, ratio, is_gated)
    if value is None:
        assert figure.measured == row[2]


def test_figures_and_rows_pass_and_anything_else_says_no_figures_returned() -> None:
    mine = gated("a", 1.0)
    assert run_all.to_figures("x", [mine]) == [mine]
    converted = run_all.to_figures("x", [mine, ("b", "t", "1 s", "1.2x")])
    assert [f.name for f in converted] == ["a", "b"]
    for returned in (1, None, [], [object()], "text"):
        (figure,) = run_all.to_figures("legacy_import", returned)
        assert figure.name == "legacy_import: no figures returned"
        assert figure.value is None
        assert not figure.gated
        assert repr(returned)[:10] in figure.note


@pytest.fixture
def fake_benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    (tmp_path / "rows.py").write_text(
        "def main(argv=None):\n"
        "    return [('r', '≤ 2x baseline', '1.0 s', '1.5x'), ('argv', 't', str(len(argv)), '')]\n"
    )
    (tmp_path / "old.py").write_text("import sys\ndef main():\n    return len(sys.argv)\n")
    (tmp_path / "boom.py").write_text("def main(argv=None):\n    raise RuntimeError('no\\nmore')\n")
    (tmp_path / "bye.py").write_text(
        "def main(argv=None):\n    raise SystemExit('child died\\n')\n"
    )
    return tmp_path


def test_run_benchmark_passes_quick_and_url_to_those_that_take_them(
    fake_benchmarks: Path,
) -> None:
    outcome = run_all.run_benchmark(run_all.Benchmark("rows", "--url"), True, "postgresql://x")
    assert not outcome.failed
    first = outcome.figures[0]
    assert (first.name, first.ratio, first.gated) == ("r", 1.5, True)
    assert outcome.figures[1].value == 3  # --quick --url postgresql://x
    plain = run_all.run_benchmark(run_all.Benchmark("rows"), False, "postgresql://x")
    assert plain.figures[1].value == 0


def test_a_main_without_argv_runs_on_a_full_run_and_is_not_run_on_quick(
    fake_benchmarks: Path,
) -> None:
    full = run_all.run_benchmark(run_all.Benchmark("old"), False, None)
    assert [f.name for f in full.figures] == ["old: no figures returned"]
    assert "returned 1" in full.figures[0].note  # sys.argv was [script]
    quick = run_all.run_benchmark(run_all.Benchmark("old"), True, None)
    assert [f.name for f in quick.figures] == ["old: not run"]
    assert "--quick cannot be passed" in quick.figures[0].note
    assert not quick.failed


@pytest.mark.parametrize(("name", "note"), [("boom", "RuntimeError: no"), ("bye", "child died")])
def test_a_crashing_benchmark_is_a_failed_figure(
    fake_benchmarks: Path, name: str, note: str
) -> None:
    outcome = run_all.run_benchmark(run_all.Benchmark(name), True, None)
    assert outcome.failed
    assert [f.name for f in outcome.figures] == [f"{name}: failed"]
    assert note in outcome.figures[0].note
    assert "\n" not in outcome.figures[0].note


# ------------------------------------------------------------------------ reference.json


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_a_reference_file_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ref.json",
        {
            "about": "x",
            "quick": True,
            "figures": {
                "a": {"benchmark": "extract", "ratio": 2},
                "b": {"benchmark": "simulator", "ratio": 0.25, "higher_is_better": True},
            },
        },
    )
    loaded = run_all.load_reference(path)
    assert loaded.quick is True
    assert loaded.ratios == {
        "a": run_all.ReferenceRatio("extract", 2.0),
        "b": run_all.ReferenceRatio("simulator", 0.25, True),
    }
    assert loaded.about == {"about": "x"}


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("{not json", "not readable JSON"),
        ([], '"quick"'),
        ({"quick": "yes", "figures": {}}, '"quick"'),
        ({"quick": True, "figures": {}}, "non-empty"),
        ({"quick": True, "figures": {"a": 2.0}}, "must be an object"),
        ({"quick": True, "figures": {"a": {"benchmark": "extract", "ratio": "2"}}}, "numeric"),
        ({"quick": True, "figures": {"a": {"benchmark": "extract", "ratio": True}}}, "numeric"),
        ({"quick": True, "figures": {"a": {"benchmark": "extract", "ratio": 0}}}, "> 0"),
        ({"quick": True, "figures": {"a": {"benchmark": "nosuch", "ratio": 1}}}, "one of"),
        (
            {
                "quick": True,
                "figures": {"a": {"benchmark": "extract", "ratio": 1, "higher_is_better": 1}},
            },
            "true/false",
        ),
    ],
)
def test_a_bad_reference_file_is_one_clear_line(
    tmp_path: Path, document: object, says: str
) -> None:
    path = _write(tmp_path / "ref.json", document)
    with pytest.raises(run_all.ReferenceError) as raised:
        run_all.load_reference(path)
    message = str(raised.value)
    assert says in message
    assert str(path) in message
    assert "\n" not in message


def test_a_missing_reference_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(run_all.ReferenceError, match="--update-reference"):
        run_all.load_reference(tmp_path / "none.json")


def test_the_committed_reference_is_valid_and_of_quick_runs() -> None:
    committed = run_all.load_reference(BENCHMARKS / "reference.json")
    assert committed.quick
    assert committed.ratios
    assert "worst of" in committed.about["about"]


def test_the_worst_run_makes_the_reference_and_other_benchmarks_are_kept(tmp_path: Path) -> None:
    runs = [
        {"extract": Outcome([gated("w", 2.0)]), "simulator": Outcome([gated("s", 0.5, True)])},
        {"extract": Outcome([gated("w", 2.6)]), "simulator": Outcome([gated("s", 0.4, True)])},
        {"extract": Outcome([gated("w", 2.2)]), "simulator": Outcome([gated("s", 0.6, True)])},
    ]
    worst = run_all.worst_ratios(runs)
    assert worst == {
        "w": run_all.ReferenceRatio("extract", 2.6),
        "s": run_all.ReferenceRatio("simulator", 0.4, True),
    }
    kept = {"old": run_all.ReferenceRatio("analyse", 1.0)}
    document = run_all.reference_document(worst, True, {"runs": 3}, kept)
    assert "worst of 3" in document["about"]
    loaded = run_all.load_reference(_write(tmp_path / "ref.json", document))
    assert loaded.ratios == {**worst, **kept}


# ------------------------------------------------------------------------ the 30 % rule


@pytest.mark.parametrize(
    ("ref", "measured", "higher", "regressed"),
    [
        (2.0, 2.0, False, False),
        (2.0, 2.6, False, False),  # exactly 30 % worse is still accepted
        (2.0, 2.61, False, True),
        (2.0, 0.5, False, False),  # better is never a regression
        (1.0, 0.77, True, False),  # higher is better: the limit is 1 / 1.3 = 0.769
        (1.0, 0.76, True, True),
    ],
)
def test_a_ratio_regresses_beyond_30_percent(
    ref: float, measured: float, higher: bool, regressed: bool
) -> None:
    reference_ratio = run_all.ReferenceRatio("extract", ref, higher)
    assert reference_ratio.regressed(measured) is regressed
    found = run_all.find_regressions(
        {"extract": Outcome([gated("w", measured, higher)])},
        run_all.Reference(True, {"w": reference_ratio}),
    )
    assert [r.measured for r in found] == ([measured] if regressed else [])


def test_missing_gated_figures_regress_unless_their_benchmark_was_not_run() -> None:
    ref = reference(w=("extract", 2.0), s=("simulator", 0.3))
    outcomes = {"extract": Outcome([Figure("extract: failed", "—", None, note="boom")])}
    found = run_all.find_regressions(outcomes, ref)
    assert [(r.figure, r.measured) for r in found] == [("w", None)]
    assert "missing from this run" in found[0].line()


def test_gated_figures_the_reference_does_not_know_are_listed() -> None:
    outcomes = {"extract": Outcome([gated("w", 1.0), gated("new", 1.0), Figure("n", "t", 1.0)])}
    assert run_all.unreferenced(outcomes, reference(w=("extract", 2.0))) == ["new"]


def test_a_regression_line_names_figure_reference_and_measured() -> None:
    line = run_all.Regression("extract wall", run_all.ReferenceRatio("extract", 2.0), 2.7).line()
    assert line.startswith("REGRESSION extract wall (extract): ")
    assert "reference 2.00x" in line
    assert "measured 2.70x" in line
    assert "≤ 2.60x" in line


# ------------------------------------------------------------------------ re-measure once


class Remeasure:
    """An injected runner: hands out the next outcome per benchmark and counts calls."""

    def __init__(self, **outcomes: list[Any]) -> None:
        self.queue = {name: list(items) for name, items in outcomes.items()}
        self.calls: list[str] = []

    def __call__(self, name: str) -> Any:
        self.calls.append(name)
        return self.queue[name].pop(0)


def test_a_failing_figure_is_remeasured_once_and_passes() -> None:
    outcomes = {"extract": Outcome([gated("w", 3.0)]), "simulator": Outcome([gated("s", 0.2)])}
    remeasure = Remeasure(extract=[Outcome([gated("w", 2.1)])])
    ref = reference(w=("extract", 2.0), s=("simulator", 0.2))
    assert run_all.check(outcomes, ref, remeasure) == []
    assert remeasure.calls == ["extract"]
    assert outcomes["extract"].figures[0].ratio == 2.1  # the table shows the re-measurement


def test_a_figure_failing_twice_is_a_regression_with_the_second_measurement() -> None:
    outcomes = {"extract": Outcome([gated("w", 3.0)])}
    remeasure = Remeasure(extract=[Outcome([gated("w", 2.9)])])
    (regression,) = run_all.check(outcomes, reference(w=("extract", 2.0)), remeasure)
    assert (regression.figure, regression.measured) == ("w", 2.9)
    assert remeasure.calls == ["extract"]


def test_nothing_is_remeasured_when_all_pass() -> None:
    remeasure = Remeasure()
    outcomes = {"extract": Outcome([gated("w", 2.5)])}
    assert run_all.check(outcomes, reference(w=("extract", 2.0)), remeasure) == []
    assert remeasure.calls == []


def test_a_benchmark_is_remeasured_once_for_several_failing_figures() -> None:
    outcomes = {"extract": Outcome([gated("a", 9.0), gated("b", 9.0), gated("c", 1.0)])}
    remeasure = Remeasure(extract=[Outcome([gated("a", 9.0), gated("b", 1.0), gated("c", 9.0)])])
    ref = reference(a=("extract", 1.0), b=("extract", 1.0), c=("extract", 1.0))
    found = run_all.check(outcomes, ref, remeasure)
    assert remeasure.calls == ["extract"]
    # a failed twice; b recovered; c failed only on the re-measurement: not counted
    assert [r.figure for r in found] == ["a"]


def test_a_crashed_benchmark_gets_one_more_run() -> None:
    outcomes = {"extract": Outcome([Figure("extract: failed", "—", None)], failed=True)}
    remeasure = Remeasure(extract=[Outcome([gated("w", 2.0)])])
    assert run_all.check(outcomes, reference(w=("extract", 2.0)), remeasure) == []
    assert not outcomes["extract"].failed


# ------------------------------------------------------------------------ main, end to end


class FakeRunner:
    """Stands in for run_benchmark: canned figures per benchmark and call, never a real run."""

    def __init__(self, ratios: dict[str, list[float]]) -> None:
        self.ratios = ratios
        self.calls: list[tuple[str, bool, str | None]] = []

    def __call__(self, benchmark: Any, quick: bool, url: str | None) -> Any:
        self.calls.append((benchmark.name, quick, url))
        series = self.ratios.get(benchmark.name)
        if series is None:
            return Outcome([Figure(f"{benchmark.name} time", "reported", 1.0, "s")], 1.0)
        ratio = series[min(len(series) - 1, self._count(benchmark.name) - 1)]
        return Outcome([gated(f"{benchmark.name} ratio", ratio)], 1.0)

    def _count(self, name: str) -> int:
        return sum(1 for called, _, _ in self.calls if called == name)


def _run_main(argv: list[str], runner: Callable[..., Any]) -> int:
    code: int = run_all.main(argv, run=runner)
    return code


@pytest.fixture
def ref_file(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "ref.json",
        {"quick": True, "figures": {"extract ratio": {"benchmark": "extract", "ratio": 2.0}}},
    )


def test_check_passes_within_30_percent_and_writes_no_results_on_quick(
    ref_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(run_all, "DEFAULT_RESULTS", tmp_path / "results.md")
    runner = FakeRunner({"extract": [2.5]})
    assert _run_main(["--quick", "--check", str(ref_file)], runner) == 0
    out = capsys.readouterr().out
    assert "gated ratios within 30 %" in out
    assert "REGRESSION" not in out
    assert [c[0] for c in runner.calls] == [b.name for b in run_all.BENCHMARKS]
    assert all(quick for _, quick, _ in runner.calls)
    assert not (tmp_path / "results.md").exists()


def test_check_fails_with_one_line_per_regression_after_one_remeasure(
    ref_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner({"extract": [3.0, 2.9]})
    assert _run_main(["--quick", "--only", "extract", "--check", str(ref_file)], runner) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("REGRESSION")]
    assert lines == [
        "REGRESSION extract ratio (extract): reference 2.00x, measured 2.90x (allowed ≤ 2.60x)"
    ]
    assert runner.calls == [("extract", True, None), ("extract", True, None)]


def test_check_passes_when_the_remeasure_is_within(
    ref_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner({"extract": [3.0, 2.2]})
    assert _run_main(["--quick", "--only", "extract", "--check", str(ref_file)], runner) == 0
    assert "re-measuring extract once" in capsys.readouterr().out


def test_check_refuses_a_reference_of_the_other_kind_of_run(
    ref_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner({})
    assert _run_main(["--check", str(ref_file)], runner) == 2
    assert "quick (--quick) runs" in capsys.readouterr().err
    assert runner.calls == []  # nothing run on a bad reference


def test_a_crashed_benchmark_fails_the_run_and_writes_no_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def crashing(benchmark: Any, quick: bool, url: str | None) -> Any:
        return Outcome([Figure(f"{benchmark.name}: failed", "—", None, note="boom")], failed=True)

    target = tmp_path / "new.json"
    argv = ["--quick", "--only", "extract", "--update-reference", str(target)]
    assert _run_main(argv, crashing) == 1
    assert not target.exists()
    assert "FAILED benchmark extract" in capsys.readouterr().out


def test_update_reference_keeps_the_worst_of_its_runs(tmp_path: Path) -> None:
    target = _write(
        tmp_path / "ref.json",
        {"quick": True, "figures": {"old": {"benchmark": "analyse", "ratio": 1.5}}},
    )
    runner = FakeRunner({"extract": [2.0, 2.7, 2.2], "simulator": [0.2, 0.1, 0.25]})
    argv = ["--quick", "--only", "extract", "simulator", "--runs", "3"]
    assert _run_main([*argv, "--update-reference", str(target)], runner) == 0
    assert len(runner.calls) == 6
    written = run_all.load_reference(target)
    assert {n: r.ratio for n, r in written.ratios.items()} == {
        "extract ratio": 2.7,
        "simulator ratio": 0.25,
        "old": 1.5,  # analyse was not run: its entry stays
    }
    assert written.about["made"]["runs"] == 3


def test_runs_goes_only_with_update_reference() -> None:
    with pytest.raises(SystemExit) as done:
        _run_main(["--quick", "--runs", "3"], FakeRunner({}))
    assert done.value.code == 2


def test_a_full_run_writes_results_with_date_machine_and_load(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    runner = FakeRunner({"extract": [1.8]})
    argv = ["--only", "extract", "service", "--results", str(results), "--note", "shared box"]
    assert _run_main(argv, runner) == 0
    text = results.read_text()
    assert text.startswith("# Benchmark results\n")
    assert "`python benchmarks/run_all.py --only extract service" in text
    for label in ("- Date: ", "- Machine: ", "- Load average (1 / 5 / 15 min): ", "- Commit: "):
        assert label in text
    assert "- Note: shared box" in text
    assert "--note" not in text
    assert "| extract ratio | ≤ 2x baseline | 1.00 s | 1.80x baseline | yes |" in text
    assert "| service time | reported | 1.00 s | — |  |" in text


# ------------------------------------------------------------------------ the real scripts


def test_every_benchmark_is_a_script_here_and_ci_runs_the_check() -> None:
    for benchmark in run_all.BENCHMARKS:
        assert benchmark.path == BENCHMARKS / f"{benchmark.name}.py"
        assert benchmark.path.is_file(), benchmark.name
    ci = (REPO / ".ci" / "run").read_text()
    assert "benchmarks/run_all.py --quick --check benchmarks/reference.json" in ci


@pytest.mark.parametrize("name", ["analyse", "service", "simulator"])
def test_converted_benchmarks_take_argv_and_quick(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the scripts add the checkout to it
    main = run_all.load_main(run_all.BY_NAME[name])
    assert run_all.accepts_argv(main)
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert "--quick" in capsys.readouterr().out
