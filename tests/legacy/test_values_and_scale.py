"""Value normalisation, the compliance result on imported data, and the real sizes."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builder import FULL, TENTH, build_legacy_dir
from legacy_helpers import ZONE, scalar, upgrade_with_legacy
from sqlalchemy import Engine

from pmp_intel.legacy import values as v
from pmp_intel.legacy.report import ImportReport


@pytest.mark.parametrize("raw", ["--", "NA", "", -1, "-1", None, "  --  "])
def test_sentinels_are_null(raw: object) -> None:
    assert v.clean(raw) is None
    assert v.to_int(raw) is None


def test_times() -> None:
    assert v.epoch_ms(1764052565661) == datetime(2025, 11, 25, 6, 36, 5, 661000, tzinfo=UTC)
    assert v.epoch_ms(1701388800) == datetime(2023, 12, 1, tzinfo=UTC)  # seconds, old fixtures
    assert v.epoch_ms(0) is None
    sydney = ZoneInfo("Australia/Sydney")  # daylight saving in January: +11
    assert v.local_text("2026-01-10T09:00:00.123456", sydney) == datetime(
        2026, 1, 9, 22, 0, 0, 123456, tzinfo=UTC
    )
    assert v.utc_text("2026-01-10 09:00:00") == datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def test_codes() -> None:
    assert [v.severity(x) for x in ("Critical", "important", 3, "7", "--")] == [4, 3, 3, None, None]
    assert [v.live_status(x) for x in (0, 1, 2, "--")] == [2, 1, 2, None]
    assert [v.install_status(x) for x in ("Installed", "Failed", 202, 5)] == [201, 206, 202, None]
    assert v.platform("Windows Server 2019") == 1


def test_compliance_checker_gives_a_believable_result_on_imported_data(
    imported: tuple[Engine, ImportReport],
) -> None:
    """The old migrator left severities NULL, so its checker always said maturity 3. With
    real severities and install states, the result must not be an automatic pass."""
    from pmp_intel.analyse import ComplianceChecker

    engine, report = imported
    newest = max(report.snapshot_ids)
    result = ComplianceChecker(engine).evaluate(newest)
    q = scalar(engine)
    outcomes = q(
        "SELECT count(*) FROM compliance_checks WHERE snapshot_id = "
        f"{newest} AND profile <> 'legacy-maia' AND outcome = 'ineffective'"
    )
    # the imported estate misses critical patches released months ago: not effective
    assert outcomes > 0, result
    levels = [strategy.maturity_level for strategy in result.strategies]
    assert levels
    assert max(levels) < 3, levels


#: ``PMP_INTEL_LEGACY_FULL=1`` adds the real sizes (about a minute per backend); the
#: default run imports a tenth of them.
SCALES = {"tenth": TENTH}
if os.environ.get("PMP_INTEL_LEGACY_FULL") == "1":
    SCALES["full"] = FULL


@pytest.mark.slow
@pytest.mark.parametrize("scale", sorted(SCALES))
def test_import_at_scale(scale: str, target: Engine, tmp_path: Path) -> None:
    """At a tenth of the real sizes (and at the real sizes on demand: 3,359 systems, 12,559
    all_patches rows, 43,182 supported patches, 127,928 system reports) every row is
    accounted for, and what comes through is what the builder encoded."""
    sizes = SCALES[scale]
    truth = build_legacy_dir(tmp_path / scale, sizes, zone=ZONE)
    started = time.perf_counter()
    report = upgrade_with_legacy(target, truth.directory)
    elapsed = time.perf_counter() - started
    assert report.balanced
    by_table = {(t.file, t.table): t for t in report.tables}
    assert {key: by_table[key].read for key in truth.rows} == truth.rows
    assert by_table[("pmp_systemreports.db", "system_reports")].read == sizes.system_reports
    assert by_table[("pmp_config.db", "supported_patches")].read == sizes.supported_patches
    assert by_table[("pmp_config.db", "all_patches")].read == sizes.all_patches_rows
    q = scalar(target)
    assert q("SELECT count(*) FROM systems") == sizes.systems == len(truth.systems)
    assert q("SELECT count(*) FROM patches") == len(truth.patches)
    assert q("SELECT count(*) FROM system_patch_states") == len(truth.states)
    assert q("SELECT count(*) FROM systems WHERE resource_name IS NULL") == 0
    assert q("SELECT count(*) FROM patches WHERE severity IS NULL") == 0
    assert elapsed < 60
