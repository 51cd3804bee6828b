"""What "consistent after a crash" means, as queries: the database's content by natural keys
and values, duplicates, checkpoints against their staged data, snapshots left open, merged
snapshots without their analysis, and the extraction lock.

Every function takes an engine and a source id and returns plain values (or a list of
problems, empty when all is well) so that a failing assertion says what is wrong.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, Table, and_, func, or_, select
from sqlalchemy.orm import Session

from pmp_intel.endpoints import registry
from pmp_intel.settings import Settings
from pmp_intel.store.models import (
    ENTITIES,
    ComplianceCheck,
    ExtractionCheckpoint,
    ExtractionGap,
    ExtractionLock,
    ServerSummary,
    Snapshot,
)
from pmp_intel.store.models.metrics import (
    PatchMetric,
    SeverityMetric,
    SystemHealthMetric,
    TimeToPatchMetric,
    VulnerabilityMetric,
)

TESTS = Path(__file__).resolve().parents[1]
FINISHED = ("complete", "partial")
HISTORY_ONLY = frozenset({"id", "source_id", "valid_from_snapshot_id", "valid_to_snapshot_id"})
SNAPSHOT_ONLY = frozenset({"id", "snapshot_id", "created_at"})
METRIC_MODELS = (
    PatchMetric,
    SeverityMetric,
    SystemHealthMetric,
    VulnerabilityMetric,
    TimeToPatchMetric,
)


def load_test_module(name: str, folder: str) -> ModuleType:
    """``tests/<folder>/<name>.py``, loaded by path (test folders are not packages and this
    one may run on its own); the module already loaded under that name is reused."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, TESTS / folder / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def extraction_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """Environment of an ``extract`` subprocess for ``settings`` (JSON logs, small pages,
    small batches); nothing of the test process's PMP_/SLACK_ settings leaks in."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMP_", "SLACK_"))}
    env.pop("POST_EXTRACTION_HOOK", None)
    assert settings.client_secret is not None
    assert settings.refresh_token is not None
    env.update(
        PMP_INTEL_DATABASE_URL=settings.database_url,
        PMP_INTEL_SOURCE=settings.source_name,
        PMP_BASE_URL=str(settings.base_url),
        PMP_ACCOUNTS_URL=str(settings.accounts_url),
        PMP_CLIENT_ID=str(settings.client_id),
        PMP_CLIENT_SECRET=settings.client_secret.get_secret_value(),
        PMP_REFRESH_TOKEN=settings.refresh_token.get_secret_value(),
        PMP_RATE_LIMIT="1000",
        PMP_PAGE_LIMIT="10",
        PMP_MAX_ATTEMPTS="1",
        PMP_INTEL_COMMIT_EVERY="3",
        PMP_INTEL_LOG_FORMAT="json",
    )
    env.update(overrides)
    return env


# ------------------------------------------------------------------------------ values


def _plain(value: Any) -> Any:
    """A comparable, hashable form of a column value."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return value


def _rows(
    session: Session, table: Table, skip: frozenset[str], *where: Any
) -> list[tuple[Any, ...]]:
    columns = [c for c in table.columns if c.name not in skip]
    rows = session.execute(select(*columns).where(*where)).all()
    return sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)


def latest_finished(engine: Engine, source_id: int) -> int | None:
    """The newest complete or partial snapshot of the source (what readers call latest)."""
    with Session(engine) as session:
        return session.scalar(
            select(Snapshot.id)
            .where(Snapshot.source_id == source_id, Snapshot.status.in_(FINISHED))
            .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
            .limit(1)
        )


def database_state(engine: Engine, source_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The source as a reader sees it: every current history row (natural key and values),
    and the server summary, metrics and compliance rows of its latest finished snapshot."""
    snapshot_id = latest_finished(engine, source_id)
    state: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as session:
        for entity, (history, _staging) in ENTITIES.items():
            table: Table = history.__table__  # type: ignore[attr-defined]
            state[entity] = _rows(
                session,
                table,
                HISTORY_ONLY,
                table.c.source_id == source_id,
                table.c.valid_to_snapshot_id.is_(None),
            )
        for model in (ServerSummary, *METRIC_MODELS):
            table = model.__table__  # type: ignore[attr-defined]
            state[table.name] = _rows(
                session, table, SNAPSHOT_ONLY, table.c.snapshot_id == snapshot_id
            )
        checks = ComplianceCheck.__table__  # type: ignore[attr-defined]
        rows = session.execute(select(checks).where(checks.c.snapshot_id == snapshot_id))
        state[checks.name] = sorted(
            (_comparable_check(dict(row._mapping)) for row in rows), key=repr
        )
    return state


def _comparable_check(row: dict[str, Any]) -> tuple[Any, ...]:
    """A compliance row without what depends, by definition, on the extraction history or
    the clock rather than on the snapshot's data: the discovery-cadence control counts the
    source's snapshots, and the scanner database's age runs to the moment the snapshot
    started."""
    details = dict(row["details"] or {})
    values = {k: v for k, v in row.items() if k not in SNAPSHOT_ONLY and k != "details"}
    if details.get("kind") == "discovery":
        identity = ("profile", "strategy", "maturity_level", "control_id", "title")
        values = {k: values[k] for k in identity}
        details = {"kind": "discovery"}
    elif details.get("kind") == "database":
        details.pop("age_hours", None)
        details.pop("reason", None)
    return (*(_plain(values[k]) for k in sorted(values)), _plain(details))


def state_differences(
    got: Mapping[str, list[tuple[Any, ...]]], expected: Mapping[str, list[tuple[Any, ...]]]
) -> dict[str, str]:
    """Per table, a short account of how ``got`` differs from ``expected`` (empty: equal)."""
    out = {}
    for name in sorted(set(got) | set(expected)):
        a, b = got.get(name, []), expected.get(name, [])
        if a != b:
            extra = [r for r in a if r not in b][:2]
            missing = [r for r in b if r not in a][:2]
            out[name] = f"{len(a)} rows vs {len(b)}; extra {extra}; missing {missing}"
    return out


# ------------------------------------------------------------------------------ invariants


def snapshot_statuses(engine: Engine, source_id: int) -> list[tuple[int, str]]:
    """(id, status) of every snapshot of the source, oldest first."""
    with Session(engine) as session:
        rows = session.execute(
            select(Snapshot.id, Snapshot.status)
            .where(Snapshot.source_id == source_id)
            .order_by(Snapshot.id)
        ).all()
    return [(int(i), str(s)) for i, s in rows]


def duplicate_problems(engine: Engine, source_id: int) -> list[str]:
    """Natural keys present twice: among current rows, as of any finished snapshot, or in
    the staging of any snapshot (same endpoint, parent, page and position)."""
    problems = []
    finished = [i for i, s in snapshot_statuses(engine, source_id) if s in FINISHED]
    with Session(engine) as session:
        snapshot_ids = select(Snapshot.id).where(Snapshot.source_id == source_id)
        for history, staging in ENTITIES.values():
            h: Table = history.__table__  # type: ignore[attr-defined]
            key = [h.c[k] for k in history.__natural_key__]
            views = {"current": h.c.valid_to_snapshot_id.is_(None)}
            for sid in finished:
                views[f"as of {sid}"] = and_(
                    h.c.valid_from_snapshot_id <= sid,
                    or_(h.c.valid_to_snapshot_id.is_(None), h.c.valid_to_snapshot_id > sid),
                )
            for view, condition in views.items():
                twice = session.execute(
                    select(*key, func.count())
                    .where(h.c.source_id == source_id, condition)
                    .group_by(*key)
                    .having(func.count() > 1)
                    .limit(3)
                ).all()
                problems += [f"{h.name} {view}: {tuple(r)}" for r in twice]
            s: Table = staging.__table__  # type: ignore[attr-defined]
            position = [s.c.snapshot_id, s.c.endpoint, s.c.parent_key, s.c.page, s.c.seq]
            twice = session.execute(
                select(*position, func.count())
                .where(s.c.snapshot_id.in_(snapshot_ids))
                .group_by(*position)
                .having(func.count() > 1)
                .limit(3)
            ).all()
            problems += [f"{s.name}: {tuple(r)}" for r in twice]
    return problems


#: Endpoints whose records can map to no row at all: a patch without CVEs, a system
#: without patches.
RECORDS_MAY_STAGE_NOTHING = frozenset({"dcapi_patches", "dcapi_systemreport"})


def checkpoint_problems(engine: Engine, source_id: int) -> list[str]:
    """Checkpoints of open snapshots that disagree with their staged data: a page staged
    beyond its checkpoint, or a page the checkpoint counts as read that is neither staged
    nor a recorded gap (data lost under a checkpoint that moved on)."""
    problems = []
    with Session(engine) as session:
        open_ids = session.scalars(
            select(Snapshot.id).where(
                Snapshot.source_id == source_id, Snapshot.status == "in_progress"
            )
        ).all()
        for snapshot_id in open_ids:
            staged: dict[tuple[str, str], set[int]] = {}
            for _history, staging in ENTITIES.values():
                table: Table = staging.__table__  # type: ignore[attr-defined]
                for endpoint, parent, page in session.execute(
                    select(table.c.endpoint, table.c.parent_key, table.c.page)
                    .where(table.c.snapshot_id == snapshot_id)
                    .distinct()
                ):
                    staged.setdefault((endpoint, parent), set()).add(int(page))
            gaps: dict[tuple[str, str], set[int]] = {}
            for endpoint, parent, page in session.execute(
                select(ExtractionGap.endpoint, ExtractionGap.parent_key, ExtractionGap.page).where(
                    ExtractionGap.snapshot_id == snapshot_id
                )
            ):
                gaps.setdefault((endpoint, parent), set()).add(int(page))
            marks = {
                (c.endpoint, c.parent_key): c
                for c in session.scalars(
                    select(ExtractionCheckpoint).where(
                        ExtractionCheckpoint.snapshot_id == snapshot_id
                    )
                )
            }
            for where, pages in staged.items():
                mark = marks.get(where)
                if mark is None or max(pages) > mark.last_page:
                    problems.append(
                        f"snapshot {snapshot_id} {where}: page {max(pages)} staged beyond "
                        f"checkpoint {None if mark is None else mark.last_page}"
                    )
            for where, mark in marks.items():
                endpoint = registry.get(where[0]) if where[0] in registry else None
                if endpoint is None or endpoint.entity is None or not mark.records_extracted:
                    continue  # summary objects live in server_summaries; empty pages stage nothing
                if where[0] in RECORDS_MAY_STAGE_NOTHING:
                    continue  # a whole page of such records can legitimately stage no row
                lost = (
                    set(range(1, mark.last_page + 1))
                    - staged.get(where, set())
                    - gaps.get(where, set())
                )
                if lost:
                    problems.append(
                        f"snapshot {snapshot_id} {where}: checkpoint at page {mark.last_page} "
                        f"({mark.records_extracted} records) but pages {sorted(lost)[:5]} "
                        "neither staged nor gaps"
                    )
    return problems


def unanalysed_snapshots(engine: Engine, source_id: int) -> list[int]:
    """Merged (complete or partial) snapshots of the source lacking metrics or compliance."""
    with Session(engine) as session:
        merged = session.scalars(
            select(Snapshot.id).where(
                Snapshot.source_id == source_id,
                Snapshot.status.in_(FINISHED),
                Snapshot.merged_at.is_not(None),
            )
        ).all()
        lacking = []
        for sid in merged:
            metrics = session.scalar(
                select(func.count()).select_from(PatchMetric).where(PatchMetric.snapshot_id == sid)
            )
            checks = session.scalar(
                select(func.count())
                .select_from(ComplianceCheck)
                .where(ComplianceCheck.snapshot_id == sid)
            )
            if not metrics or not checks:
                lacking.append(int(sid))
    return lacking


def staged_rows_of_finished(engine: Engine, source_id: int) -> dict[int, int]:
    """Staging rows still held by snapshots that are no longer in progress (merged data must
    leave staging; a failed snapshot's staging is dropped)."""
    out: dict[int, int] = {}
    with Session(engine) as session:
        ended = select(Snapshot.id).where(
            Snapshot.source_id == source_id, Snapshot.status != "in_progress"
        )
        for _history, staging in ENTITIES.values():
            table: Table = staging.__table__  # type: ignore[attr-defined]
            for sid, count in session.execute(
                select(table.c.snapshot_id, func.count())
                .where(table.c.snapshot_id.in_(ended))
                .group_by(table.c.snapshot_id)
            ):
                out[int(sid)] = out.get(int(sid), 0) + int(count)
    return out


def lock_holder(engine: Engine, source_id: int) -> str | None:
    """Who holds the source's extraction lock (None: free)."""
    with Session(engine) as session:
        return session.scalar(
            select(ExtractionLock.holder).where(ExtractionLock.source_id == source_id)
        )


def gaps(engine: Engine, source_id: int) -> list[tuple[str, int, str]]:
    """(endpoint, page, status) of every gap of the source's snapshots."""
    with Session(engine) as session:
        rows = session.execute(
            select(ExtractionGap.endpoint, ExtractionGap.page, ExtractionGap.status)
            .join(Snapshot, Snapshot.id == ExtractionGap.snapshot_id)
            .where(Snapshot.source_id == source_id)
            .order_by(ExtractionGap.endpoint, ExtractionGap.page)
        ).all()
    return [(str(e), int(p), str(s)) for e, p, s in rows]
