"""Pages and checkpoints commit together, in batches; a crash loses only the open batch."""

from __future__ import annotations

import pytest
from fresh_source import Fresh
from sqlalchemy import func, select

from pmp_intel.extract.staging import (
    DuplicatePageError,
    PageWrite,
    PageWriter,
    UnknownColumnError,
)
from pmp_intel.store.models import ExtractionCheckpoint, ExtractionGap, StagedSystem


def page(n: int, per_page: int = 25, endpoint: str = "allsystems") -> PageWrite:
    rows = [
        ("system", {"resource_id": n * 1000 + i, "resource_name": f"PC-{n}-{i}"})
        for i in range(per_page)
    ]
    return PageWrite(endpoint, n, rows, total_reported=1000, page_limit=per_page)


def staged(fresh: Fresh) -> int:
    with fresh.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(StagedSystem)
                .where(StagedSystem.snapshot_id == fresh.snapshot_id)
            )
            or 0
        )


def checkpoint(fresh: Fresh, endpoint: str = "allsystems") -> ExtractionCheckpoint | None:
    with fresh.sessions() as session:
        return session.scalar(
            select(ExtractionCheckpoint).where(
                ExtractionCheckpoint.snapshot_id == fresh.snapshot_id,
                ExtractionCheckpoint.endpoint == endpoint,
            )
        )


def record_gap(writer: PageWriter, fresh: Fresh, number: int) -> ExtractionGap:
    """Record allsystems page ``number`` as a gap (a 503 after 3 attempts), moving the
    checkpoint past it."""
    gap = ExtractionGap(
        source_id=fresh.source_id,
        endpoint="allsystems",
        page=number,
        error_type="server_error",
        http_status=503,
        attempts=3,
    )
    writer.record_gap(
        gap, advance=PageWrite("allsystems", number, [], total_reported=1000, page_limit=25)
    )
    return gap


def test_commits_every_n_pages_and_a_crash_loses_only_the_open_batch(fresh: Fresh) -> None:
    writer = PageWriter(fresh.sessions, fresh.snapshot_id, commit_every=10)
    for n in range(1, 16):
        writer.write_page(page(n))
    assert writer.pages_committed == 10
    writer.rollback()  # the process dies here: the open batch is gone
    assert staged(fresh) == 250
    cp = checkpoint(fresh)
    assert cp is not None
    assert (cp.last_page, cp.records_extracted) == (10, 250)


def test_resumed_page_does_not_duplicate(fresh: Fresh) -> None:
    with PageWriter(fresh.sessions, fresh.snapshot_id, commit_every=2) as writer:
        writer.write_page(page(1))
        writer.write_page(page(2))
        writer.write_page(page(3))
    # a second run repeats page 3 after a crash that came too late to lose it
    writer = PageWriter(fresh.sessions, fresh.snapshot_id)
    with pytest.raises(DuplicatePageError, match="page 3 is staged already"):
        writer.write_page(page(3))
    with pytest.raises(DuplicatePageError, match="page 1 is staged already"):
        writer.write_page(page(1))
    writer.rollback()
    assert staged(fresh) == 75


def test_clean_exit_commits_the_tail(fresh: Fresh) -> None:
    with PageWriter(fresh.sessions, fresh.snapshot_id, commit_every=10) as writer:
        for n in range(1, 4):
            writer.write_page(page(n))
    assert staged(fresh) == 75
    assert checkpoint(fresh).last_page == 3  # type: ignore[union-attr]


def test_missing_columns_are_null_and_unknown_columns_refused(fresh: Fresh) -> None:
    with PageWriter(fresh.sessions, fresh.snapshot_id) as writer:
        writer.write_page(
            PageWrite(
                "allsystems",
                1,
                [
                    ("system", {"resource_id": 1}),
                    ("system", {"resource_id": 2, "os_name": "Windows 11"}),
                ],
            )
        )
        with pytest.raises(UnknownColumnError, match="no column"):
            writer.write_page(
                PageWrite("allsystems", 2, [("system", {"resource_id": 3, "colour": "red"})])
            )
    assert staged(fresh) == 2


def test_gap_advances_the_checkpoint_in_the_same_batch(fresh: Fresh) -> None:
    with PageWriter(fresh.sessions, fresh.snapshot_id) as writer:
        writer.write_page(page(1))
        record_gap(writer, fresh, 2)
        writer.write_page(page(3))
    cp = checkpoint(fresh)
    assert cp is not None
    assert (cp.last_page, cp.records_extracted) == (3, 50)
    with fresh.sessions() as session:
        gap = session.scalars(
            select(ExtractionGap).where(ExtractionGap.snapshot_id == fresh.snapshot_id)
        ).one()
    assert (gap.page, gap.status) == (2, "open")


def test_only_an_open_gap_may_be_written_below_the_checkpoint(fresh: Fresh) -> None:
    with PageWriter(fresh.sessions, fresh.snapshot_id) as writer:
        writer.write_page(page(1))
        gap = record_gap(writer, fresh, 2)
        writer.write_page(page(3))
    with PageWriter(fresh.sessions, fresh.snapshot_id) as writer:
        writer.write_page(page(2))  # the gap, refilled by a later run
        refilled = writer.session.get(ExtractionGap, gap.id)
        assert refilled is not None
        refilled.status = "closed"
    writer = PageWriter(fresh.sessions, fresh.snapshot_id)
    with pytest.raises(DuplicatePageError, match="allsystems page 2 is staged already"):
        writer.write_page(page(2))  # closed now: staged once already
    writer.rollback()
    assert staged(fresh) == 75
    assert checkpoint(fresh).records_extracted == 75  # type: ignore[union-attr]


def test_discard_endpoint_restarts_it(fresh: Fresh) -> None:
    writer = PageWriter(fresh.sessions, fresh.snapshot_id)
    writer.write_page(page(1))
    writer.write_page(page(1, endpoint="scandetails"))
    writer.commit()
    writer.discard_endpoint("allsystems")
    assert checkpoint(fresh) is None
    assert checkpoint(fresh, "scandetails") is not None
    assert staged(fresh) == 25
