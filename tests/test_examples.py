"""The example scripts run: an extraction from cron, a compliance report to a file, an
organisation's missing critical patches, and a legacy import; each explains itself."""

from __future__ import annotations

import csv
import json
import runpy
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import inspect

from pmp_intel.extract.extractor import Extractor
from pmp_intel.service import PMPIntelligenceService
from pmp_intel.store.engine import create_db_engine
from pmp_intel.testing import SimulatedPMP, simulated_pmp

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))


def run_example(monkeypatch: pytest.MonkeyPatch, name: str, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", [name, *args])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    code = done.value.code
    return code if isinstance(code, int) else (0 if code is None else 1)


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_example_says_how_to_run_it(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (EXAMPLES / name).read_text()
    doc = runpy.run_path(str(EXAMPLES / name), run_name="not_main").get("__doc__") or ""
    assert f"python examples/{name}" in doc, f"{name}: the docstring shows no run line"
    assert "argparse" in source
    assert run_example(monkeypatch, name, "--help") == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_cron_extraction_then_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("PMP_INTEL_SOURCE", "examples")
    with simulated_pmp(systems=20, seed=5, auth="token") as pmp:
        monkeypatch.setenv("PMP_BASE_URL", pmp.base_url)
        monkeypatch.setenv("PMP_AUTH", "token")
        monkeypatch.setenv("PMP_TOKEN", pmp.credentials["token"])
        monkeypatch.setenv("PMP_RATE_LIMIT", "1000")
        assert run_example(monkeypatch, "cron_extract.py") == 0
    report = tmp_path / "e8.html"
    assert run_example(monkeypatch, "compliance_report.py", str(report)) == 0
    assert "Essential Eight" in report.read_text()


def _critical_truth(pmp: SimulatedPMP, organisation: str) -> Counter[int]:
    """patch_id → the organisation's systems on which the critical patch is missing or
    failed, from the simulator's own records."""
    members = {
        int(r["resource_id"])
        for r in pmp.records("allsystems")
        if r["branch_office_name"] == organisation
    }
    found: Counter[int] = Counter()
    for record in pmp.records("dcapi_systemreport"):
        if int(record["resource_id"]) not in members:
            continue
        for patch in record["patches"]:
            if patch["severity"] == "Critical" and patch["patch_status"] in ("Missing", "Failed"):
                found[int(patch["patch_id"])] += 1
    return found


def test_missing_critical_patches_of_an_organisation(
    fresh_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", fresh_database_url)
    truths: list[Counter[int]] = []
    with simulated_pmp(systems=25, seed=9, auth="token") as pmp:
        settings = pmp.client_settings(database_url=fresh_database_url, rate_limit=10_000.0)
        organisations = Counter(r["branch_office_name"] for r in pmp.records("allsystems"))
        organisation = organisations.most_common(1)[0][0]
        for index in range(2):
            if index:
                pmp.advance(days=10)
            truths.append(_critical_truth(pmp, organisation))
            assert Extractor(settings).run().ok
    assert truths[0] != truths[1], "ten simulated days changed nothing"
    assert sum(truths[1].values()) > 0, "the organisation has no missing critical patches"

    pattern = organisation.upper()  # LIKE without wildcards: a case-insensitive substring
    assert [name for name in organisations if pattern in name.upper()] == [organisation]
    latest_csv, first_csv = tmp_path / "latest.csv", tmp_path / "first.csv"
    assert run_example(monkeypatch, "missing_critical.py", pattern, "--csv", str(latest_csv)) == 0
    out = capsys.readouterr().out
    assert f"{organisation}: {organisations[organisation]} systems" in out
    assert (
        run_example(
            monkeypatch, "missing_critical.py", pattern, "--snapshot", "1", "--csv", str(first_csv)
        )
        == 0
    )

    def per_patch(path: Path) -> dict[int, int]:
        with path.open() as handle:
            return {int(r["patch_id"]): int(r["systems"]) for r in csv.DictReader(handle)}

    assert per_patch(latest_csv) == dict(truths[1])
    assert per_patch(first_csv) == dict(truths[0])  # the state as it was at snapshot 1
    with PMPIntelligenceService(url=fresh_database_url) as service:
        (summary,) = (
            r for r in service.organisation_summary().data if r["organisation"] == organisation
        )
    assert sum(truths[1].values()) == summary["missing_critical_pairs"]
    wildcard = organisation[:3] + "%"
    assert run_example(monkeypatch, "missing_critical.py", wildcard) == 0
    assert f"{organisation}: " in capsys.readouterr().out
    assert run_example(monkeypatch, "missing_critical.py", "no such organisation") == 1
    assert "no organisation matches" in capsys.readouterr().err


@pytest.fixture
def legacy_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A small legacy Maia folder from the legacy tests' factory-boy builder."""
    monkeypatch.syspath_prepend(str(REPO / "tests" / "legacy"))
    from builder import LegacySizes, build_legacy_dir

    return build_legacy_dir(tmp_path / "maia", LegacySizes(), zone="Australia/Brisbane")


def test_legacy_import(
    legacy_folder,  # type: ignore[no-untyped-def]
    fresh_database_url: str,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", fresh_database_url)
    folder = str(legacy_folder.directory)
    zone = ("--legacy-timezone", "Australia/Brisbane")

    assert run_example(monkeypatch, "legacy_import.py", folder, "--dry-run", *zone) == 0
    assert "would import" in capsys.readouterr().out
    if backend == "sqlite":
        assert not Path(fresh_database_url.removeprefix("sqlite:///")).exists()
    else:
        engine = create_db_engine(fresh_database_url)
        assert inspect(engine).get_table_names() == []  # the dry run wrote nothing
        engine.dispose()

    report, archive = tmp_path / "report.json", tmp_path / "archive"
    args = (folder, *zone, "--report", str(report), "--archive", str(archive))
    assert run_example(monkeypatch, "legacy_import.py", *args) == 0
    out = capsys.readouterr().out
    accounting = json.loads(report.read_text())
    assert accounting["balanced"] is True
    assert accounting["totals"]["read"] == sum(legacy_folder.rows.values())
    assert len(accounting["snapshot_ids"]) == legacy_folder.runs
    assert f", {len(legacy_folder.systems)} systems" in out
    (copied,) = archive.iterdir()
    assert (copied / "MANIFEST.json").is_file()

    with PMPIntelligenceService(url=fresh_database_url, source="legacy") as service:
        names = {r["name"] for r in service.get_systems_by_organization("%").data}
    assert names == {s.name for s in legacy_folder.systems.values()}

    assert run_example(monkeypatch, "legacy_import.py", *args) == 0  # the same files again
    assert "already imported" in capsys.readouterr().out
    assert run_example(monkeypatch, "legacy_import.py", str(tmp_path / "nowhere")) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("legacy_import: error:")
    assert "\n" not in err  # one line
