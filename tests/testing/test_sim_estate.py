"""The simulated estate: determinism, realism against the real numbers, churn."""

from __future__ import annotations

import statistics

from pmp_intel.testing import Estate, EstateConfig
from pmp_intel.testing.estate import FAILED, INSTALLED, MISSING
from pmp_intel.testing.records import RecordBuilder


def _snapshot(estate: Estate) -> dict[tuple[int, int], int]:
    return {(i, row[0]): row[1] for i in estate.present() for row in estate.state(i).rows}


def test_same_seed_same_estate_different_seed_different() -> None:
    a, b, c = (Estate(EstateConfig(systems=150, seed=s)) for s in (11, 11, 12))
    builder_a, builder_b, builder_c = RecordBuilder(a), RecordBuilder(b), RecordBuilder(c)
    first = [builder_a.allsystems(i) for i in a.present()]
    assert first == [builder_b.allsystems(i) for i in b.present()]
    assert first != [builder_c.allsystems(i) for i in c.present()]
    a.advance(2.5)
    b.advance(2.5)
    assert _snapshot(a) == _snapshot(b)


def test_default_scale_matches_the_real_estate(default_estate: Estate) -> None:
    agg = default_estate.aggregates()
    config = default_estate.config
    assert agg.systems == 3362
    assert 26 <= len(default_estate.orgs) <= 34
    assert 115_000 <= agg.rows <= 140_000  # 127,928 rows at consolidation
    assert 4_500 <= len(agg.counts) <= 6_000  # ~5,200 applicable patches
    assert 1_400 <= len(agg.missing_sorted) <= 2_400  # ~1,735 missing
    assert (config.policy_count, config.view_config_count, config.apd_task_count) == (92, 225, 70)
    healthy, vulnerable, highly = (agg.health[h] / agg.systems for h in (1, 2, 3))
    assert 0.40 < healthy < 0.62
    assert 0.04 < vulnerable < 0.16
    assert 0.30 < highly < 0.46
    assert 300_000 < default_estate.supported_count() < 420_000


def test_identifiers_and_codes_are_realistic(default_estate: Estate) -> None:
    indices = list(default_estate.present(0, 400))
    resource_ids = [default_estate.system(i).resource_id for i in indices]
    assert all(len(str(r)) == 14 for r in resource_ids)
    assert len(set(resource_ids)) == len(resource_ids)
    assert [default_estate.index_of(r) for r in resource_ids] == indices
    patch_ids = list(default_estate.aggregates().counts)
    update_ids = {default_estate.patch(p).update_id for p in patch_ids}  # type: ignore[union-attr]
    assert len(set(patch_ids)) == len(patch_ids)
    assert update_ids == set(range(10))  # update_id repeats 0-9; patch_id is the key
    statuses = {row[1] for i in indices for row in default_estate.state(i).rows}
    assert statuses == {INSTALLED, MISSING, FAILED}
    kinds = {default_estate.system(i).os.platform for i in indices}
    assert kinds == {1, 2, 3}


def test_esu_failures_carry_error_18_on_one_windows_10_update(default_estate: Estate) -> None:
    failures = [
        (i, row)
        for i in default_estate.present()
        for row in default_estate.state(i).rows
        if row[4] == 18
    ]
    assert 250 <= len(failures) <= 700  # 513 ESU failures across 508 systems on the real estate
    assert {row[1] for _, row in failures} == {FAILED}
    patches = {row[0] for _, row in failures}
    assert len(patches) == 1
    assert all("Windows 10" in default_estate.system(i).os.os_name for i, _ in failures)


def test_installed_rows_have_install_times_in_the_past(default_estate: Estate) -> None:
    now = default_estate.now_ms
    for i in default_estate.present(0, 200):
        for row in default_estate.state(i).rows:
            patch = default_estate.patch(row[0])
            assert patch is not None
            if row[1] == INSTALLED:
                assert patch.released_ms <= row[3] <= now
            else:
                assert row[3] == 0


def test_advance_churns_one_to_three_percent_of_rows_a_day() -> None:
    estate = Estate(EstateConfig(systems=800, seed=7))
    before = _snapshot(estate)
    rates = []
    installs = 0
    for _ in range(14):
        estate.advance(1.0)
        after = _snapshot(estate)
        changed = sum(1 for k, v in after.items() if before.get(k) != v)
        changed += sum(1 for k in before if k not in after)
        installs += sum(1 for k, v in after.items() if v == INSTALLED and before.get(k) == MISSING)
        rates.append(changed / len(before))
        before = after
    assert 0.01 <= statistics.median(rates) <= 0.03
    assert installs > 0
    assert estate.created > 800
    assert estate.retired


def test_systems_come_and_go_but_stay_addressable() -> None:
    estate = Estate(EstateConfig(systems=500, seed=2, add_rate=0.01, retire_rate=0.01))
    estate.advance(5)
    present = list(estate.present())
    assert len(present) == estate.present_count() == 500 + len(estate.added) - len(estate.retired)
    assert not set(present) & set(estate.retired)
    assert [estate.present_index(p) for p in range(len(present))] == present
    new = max(estate.added)
    assert estate.is_present(new)
    assert estate.system(new).added_ms > estate.start_ms
