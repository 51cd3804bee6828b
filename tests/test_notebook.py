"""examples/explore_demo.ipynb runs top to bottom in a real kernel and draws what it says.

On SQLite the notebook builds its own demo database (the path a user without a database
takes); on PostgreSQL it is pointed at a simulated history extracted into the backend under
test (the ``PMP_INTEL_NOTEBOOK_DB`` path). Either way it must finish without an error
output, save every figure as a PNG, and show its tables.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from pmp_intel import Extractor
from pmp_intel.testing import simulated_pmp

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "explore_demo.ipynb"
FIGURES = {
    "severity_trend",
    "compliance_trend",
    "time_to_patch",
    "coverage",
    "missing_critical_by_organisation",
}
SYSTEMS, SNAPSHOTS = 40, 3


def _tagged(notebook: Any, tag: str) -> list[Any]:
    return [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]


def test_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code, "the notebook has no code"
    for cell in code:
        assert cell.outputs == [], "outputs not stripped"
        assert cell.execution_count is None, "execution counts not stripped"
    assert "Agg" in code[0].source


def _history(url: str) -> None:
    """SNAPSHOTS extractions of a simulated estate a week apart (as the notebook builds)."""
    with simulated_pmp(systems=SYSTEMS, seed=7, auth="token") as pmp:
        settings = pmp.client_settings(database_url=url, source_name="demo", rate_limit=10_000.0)
        for week in range(SNAPSHOTS):
            if week:
                pmp.advance(days=7)
            moment = datetime.fromtimestamp(pmp.estate.now_ms / 1000, UTC)
            assert Extractor(settings, trigger="demo", now=lambda m=moment: m).run().ok


def test_notebook_runs_top_to_bottom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, fresh_database_url: str
) -> None:
    out = tmp_path / "figures"
    Path.home().mkdir(exist_ok=True)  # conftest's throw-away HOME, where IPython keeps state
    monkeypatch.setenv("PMP_INTEL_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("PMP_INTEL_NOTEBOOK_SYSTEMS", str(SYSTEMS))
    monkeypatch.setenv("PMP_INTEL_NOTEBOOK_SNAPSHOTS", str(SNAPSHOTS))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    if backend == "postgresql":
        _history(fresh_database_url)
        monkeypatch.setenv("PMP_INTEL_NOTEBOOK_DB", fresh_database_url)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert not [o for o in outputs if o.get("name") == "stderr" and "Traceback" in o.text]
    (build,) = _tagged(notebook, "build")
    printed = "".join(o.text for o in build.outputs if o.output_type == "stream")
    if backend == "sqlite":  # the notebook built its own database
        assert printed.count(": complete,") == SNAPSHOTS
    assert f"latest snapshot {SNAPSHOTS} taken" in printed

    for cell in _tagged(notebook, "figure"):
        kinds = [o.get("data", {}) for o in cell.outputs]
        assert any("image/png" in data for data in kinds), cell.source.splitlines()[0]
    for cell in _tagged(notebook, "table"):
        html = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
        assert html, cell.source.splitlines()[0]
        assert "<table" in html[-1], cell.source.splitlines()[0]
    for name in FIGURES:
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(png) > 2000, f"{name}: an empty figure"

    (summary_cell,) = _tagged(notebook, "summary")
    summary = ast.literal_eval(summary_cell.outputs[-1]["data"]["text/plain"])
    assert summary["snapshots"] == SNAPSHOTS
    assert set(summary["figures"]) == FIGURES
