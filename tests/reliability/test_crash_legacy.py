"""The legacy import killed mid-way (issue 9): ``pmp-intel migrate-legacy --from DIR`` in a
subprocess, SIGKILLed at seeded SQL writes of its import, leaves the target database exactly
as it was and the legacy files untouched, and a rerun imports everything with the full
report.

The subprocess kills itself before its n-th SQL write (kill_switch_helpers), n drawn from
the writes a clean import of the same folder makes: exact points, no timing. Two targets:

* a database never migrated: the import runs inside the Alembic upgrade (revision 0002);
* a database at head that already holds an extracted source: the import runs in one
  transaction of its own.

Default run: one point on each target. ``PMP_INTEL_FULL_RELIABILITY=1``: five on each.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crash_consistency_helpers import load_test_module
from kill_switch_helpers import at_sql, run_child
from sqlalchemy import Engine

from pmp_intel.extract.extractor import Extractor
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade
from pmp_intel.testing import simulated_pmp

builder = load_test_module("builder", "legacy")
legacy_helpers = load_test_module("legacy_helpers", "legacy")
sim = load_test_module("sim_extraction", "extract")

FULL = os.environ.get("PMP_INTEL_FULL_RELIABILITY") == "1"
SEED = 20261205
POINTS = 5 if FULL else 1
#: Mid-size: five times the legacy tests' default folder (300 systems, 3,500 reports).
SCALE = 5
TARGETS = ("never-migrated", "at-head-with-data")
#: SQL writes (the kill switch also counts reads) and the switch pattern matching them.
WRITES = ("sql:INSERT", "sql:UPDATE", "sql:DELETE")
WRITE_PATTERN = "[IUD]*"
#: Report fields that name this database's own ids or the time taken.
REPORT_VOLATILE = ("source_id", "snapshot_ids", "seconds")

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@dataclass(frozen=True)
class Expected:
    """What a clean import into a target of one kind writes and reports."""

    added_rows: dict[str, int]
    report: dict[str, Any]
    writes: int


@pytest.fixture(scope="module")
def legacy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = builder.LegacySizes()
    sizes = dataclasses.replace(
        base,
        **{
            f.name: getattr(base, f.name) * SCALE
            for f in dataclasses.fields(base)
            if f.name != "runs"
        },
    )
    directory = tmp_path_factory.mktemp("legacy-mid")
    builder.build_legacy_dir(directory, sizes, empty_files=True, zone=legacy_helpers.ZONE)
    return directory


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("legacy-home")


@pytest.fixture(scope="module")
def new_target(postgres_databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Makes target databases of a kind: ``new_target(kind)`` → (url, engine)."""
    engines: list[Engine] = []
    counter = iter(range(1_000_000))

    def make(kind: str) -> tuple[str, Engine]:
        if postgres_databases is None:
            url = f"sqlite:///{tmp_path_factory.mktemp('target') / f'target{next(counter)}.db'}"
        else:
            url = postgres_databases.create().render_as_string(hide_password=False)
        engine = create_db_engine(url)
        engines.append(engine)
        if kind == "at-head-with-data":
            upgrade(engine)
            with simulated_pmp(systems=12, seed=5, page_cap=10, supported_patches=20) as pmp:
                settings = sim.settings_for(pmp, url, source_name="extracted")
                result = Extractor(
                    settings, engine=engine, endpoints=["allsystems", "allpatches"], analyses=[]
                ).run()
                assert result.exit_code == 0
        return url, engine

    yield make
    for engine in engines:
        engine.dispose()


def _row_counts(engine: Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in legacy_helpers.dump(engine).items()}


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k not in REPORT_VOLATILE}
    out["snapshots"] = len(report["snapshot_ids"])
    return out


def _command(url: str, legacy_dir: Path, archive: Path, report: Path) -> list[str]:
    return [
        "--database-url",
        url,
        "migrate-legacy",
        "--from",
        str(legacy_dir),
        "--legacy-timezone",
        legacy_helpers.ZONE,
        "--archive",
        str(archive),
        "--report",
        str(report),
    ]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMP_", "SLACK_"))}
    env["HOME"] = str(home)
    return env


@pytest.fixture(scope="module")
def expected(
    new_target: Any, legacy_dir: Path, home: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Expected]:
    """A clean import into a target of each kind: rows added, report, SQL writes made."""
    out = {}
    for kind in TARGETS:
        url, engine = new_target(kind)
        before = _row_counts(engine)
        scratch = tmp_path_factory.mktemp(f"clean-{kind}")
        counts = scratch / "counts.json"
        clean = run_child(
            _command(url, legacy_dir, scratch / "archive", scratch / "report.json"),
            _env(home),
            counts_file=counts,
        )
        assert clean.returncode == 0, clean.stderr[-2000:]
        after = _row_counts(engine)
        report = json.loads((scratch / "report.json").read_text())
        assert report["outcome"] == "imported"
        writes = sum(
            n for key, n in json.loads(counts.read_text()).items() if key.startswith(WRITES)
        )
        out[kind] = Expected(
            {t: n - before.get(t, 0) for t, n in after.items() if n != before.get(t, 0)},
            _comparable(report),
            writes,
        )
    return out


def _cases() -> list[Any]:
    return [
        pytest.param(kind, point, id=f"{kind}-point{point}")
        for kind in TARGETS
        for point in range(POINTS)
    ]


@pytest.mark.parametrize(("kind", "point"), _cases())
def test_killed_import_leaves_the_target_as_before_and_a_rerun_imports_everything(
    new_target: Any,
    expected: dict[str, Expected],
    legacy_dir: Path,
    home: Path,
    tmp_path: Path,
    kind: str,
    point: int,
) -> None:
    clean = expected[kind]
    assert clean.writes > POINTS
    rng = random.Random(f"{SEED}-{kind}-{point}")
    # spread the points over the import: one seeded write in each slice of its writes
    low = 1 + clean.writes * point // POINTS
    high = max(low, clean.writes * (point + 1) // POINTS - 1)
    nth = rng.randint(low, high)
    url, engine = new_target(kind)
    before = legacy_helpers.dump(engine)
    originals = legacy_helpers.checksums(legacy_dir)
    archive, report = tmp_path / "archive", tmp_path / "report.json"

    switch = at_sql(WRITE_PATTERN, nth)
    killed = run_child(_command(url, legacy_dir, archive, report), _env(home), [switch])

    assert killed.returncode == -9, f"not killed at write {nth}:\n{killed.stderr[-1500:]}"
    assert legacy_helpers.dump(engine) == before
    assert legacy_helpers.checksums(legacy_dir) == originals
    assert not archive.exists()
    assert not report.exists()

    rerun = run_child(_command(url, legacy_dir, archive, report), _env(home))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _comparable(json.loads(report.read_text())) == clean.report
    after = _row_counts(engine)
    counts_before = {name: len(rows) for name, rows in before.items()}
    added = {
        t: n - counts_before.get(t, 0) for t, n in after.items() if n != counts_before.get(t, 0)
    }
    assert added == clean.added_rows
    assert legacy_helpers.checksums(legacy_dir) == originals
    (archived,) = archive.iterdir()
    assert (archived / "MANIFEST.json").is_file()
