"""kill -9 at many points of an extraction, resume each time: the end result equals a clean
run's, with no duplicate and no checkpoint ahead of its data.

The extractor runs as a subprocess (``python -m pmp_intel extract``); the test reads its JSON
log line by line and sends SIGKILL when the chosen event arrives: deterministic points,
no sleeping.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sim_extraction import content, settings_for, source_id, truth
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel.store.models import ENTITIES, ExtractionCheckpoint, Snapshot
from pmp_intel.testing import simulated_pmp

REPO = Path(__file__).resolve().parents[2]
#: Events at which a run may be killed: mid-paging, right after a batch commit, mid-merge.
KILL_EVENTS = ("extraction_progress", "checkpoint_saved", "gap_closed", "entity_merged")


def _env(settings, database_url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMP_", "SLACK_"))}
    env.update(
        PMP_INTEL_DATABASE_URL=database_url,
        PMP_INTEL_SOURCE=settings.source_name,
        PMP_BASE_URL=settings.base_url,
        PMP_ACCOUNTS_URL=settings.accounts_url,
        PMP_CLIENT_ID=settings.client_id,
        PMP_CLIENT_SECRET=settings.client_secret.get_secret_value(),
        PMP_REFRESH_TOKEN=settings.refresh_token.get_secret_value(),
        PMP_RATE_LIMIT="1000",
        PMP_PAGE_LIMIT="10",
        PMP_INTEL_COMMIT_EVERY="3",
        PMP_INTEL_LOG_FORMAT="json",
        PYTHONPATH=str(REPO),
    )
    return env


def _run(env: dict[str, str], kill_at: int | None) -> tuple[int, int]:
    """Run one extraction; kill it at the ``kill_at``-th kill event. Returns (exit code,
    kill events seen)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pmp_intel", "extract", "--trigger", "cron"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen = 0
    for line in process.stderr:
        if any(f'"event_type": "{event}"' in line for event in KILL_EVENTS):
            seen += 1
            if kill_at is not None and seen == kill_at:
                process.send_signal(signal.SIGKILL)
                break
    process.stderr.close()
    return process.wait(timeout=120), seen


def _checkpoints_behind_their_data(engine: Engine, source: int) -> list[str]:
    """Staged pages beyond their checkpoint (must never happen)."""
    problems = []
    with Session(engine) as session:
        open_ids = session.scalars(
            select(Snapshot.id).where(
                Snapshot.source_id == source, Snapshot.status == "in_progress"
            )
        ).all()
        for snapshot_id in open_ids:
            marks = {
                (c.endpoint, c.parent_key): c.last_page
                for c in session.scalars(
                    select(ExtractionCheckpoint).where(
                        ExtractionCheckpoint.snapshot_id == snapshot_id
                    )
                )
            }
            for _history, staging in ENTITIES.values():
                table = staging.__table__  # type: ignore[attr-defined]
                rows = session.execute(
                    select(table.c.endpoint, table.c.parent_key, func.max(table.c.page))
                    .where(table.c.snapshot_id == snapshot_id)
                    .group_by(table.c.endpoint, table.c.parent_key)
                )
                for endpoint, parent, page in rows:
                    if page > marks.get((endpoint, parent), 0):
                        problems.append(
                            f"{table.name} {endpoint}/{parent}: page {page} staged, "
                            f"checkpoint {marks.get((endpoint, parent))}"
                        )
    return problems


@pytest.mark.slow
def test_sigkill_at_twelve_points_then_resume(engine: Engine, database_url: str) -> None:
    rng = random.Random(20261122)
    with simulated_pmp(systems=40, seed=31, page_cap=10) as pmp:
        settings = settings_for(pmp, database_url)
        env = _env(settings, database_url)
        # how many kill events a clean run emits, measured on a throw-away source
        probe_env = {**env, "PMP_INTEL_SOURCE": settings.source_name + "-probe"}
        code, total_events = _run(probe_env, None)
        assert code == 0
        points = sorted(rng.sample(range(1, total_events), 12))
        kills = 0
        for point in points:
            code, _ = _run(env, rng.randint(1, max(1, point // 3)))
            if code == -signal.SIGKILL:
                kills += 1
            src = source_id(engine, settings.source_name)
            assert _checkpoints_behind_their_data(engine, src) == []
        code, _ = _run(env, None)
        while code == 2:  # a kill can land after a run's last page but before its merge
            code, _ = _run(env, None)
        expected = truth(pmp)
    assert kills >= 10
    assert code == 0
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == expected
    with Session(engine) as session:
        statuses = session.scalars(select(Snapshot.status).where(Snapshot.source_id == src)).all()
    assert statuses.count("complete") >= 1
    assert "in_progress" not in statuses
