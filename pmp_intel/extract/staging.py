"""Write pages into staging together with their checkpoints, committing in batches.

Each page's rows and its checkpoint go into the same transaction, and a transaction is
committed every ``commit_every`` pages. A crash (even SIGKILL) therefore loses at most the
uncommitted batch, and a checkpoint can never run ahead of its data: both roll back together.
A resumed run starts after the checkpoint, so a lost page is written once more, never twice;
a page at or below its checkpoint is accepted only to fill an open gap, and any other is
refused (:class:`DuplicatePageError`), so staging can never hold a page twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Table, delete, select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.store.bulk import BulkInsert
from pmp_intel.store.engine import begin_writing
from pmp_intel.store.models import ENTITIES, ExtractionCheckpoint, ExtractionGap, GapStatus
from pmp_intel.store.types import utcnow

#: Columns the writer sets itself on every staging row, in the order it writes them.
_BOOKKEEPING = ("snapshot_id", "endpoint", "parent_key", "page", "seq")


class UnknownColumnError(ValueError):
    """An endpoint mapped a record onto a column its entity does not have (a bug)."""


class DuplicatePageError(ValueError):
    """A page at or below its checkpoint, and not an open gap, was written again (a bug:
    it is staged already)."""


@dataclass(frozen=True)
class _StagingTable:
    """One entity's staging table: its data columns and the prepared insert."""

    table: Table
    columns: tuple[str, ...]
    names: frozenset[str]
    insert: BulkInsert

    @classmethod
    def of(cls, entity: str, dialect: Dialect) -> _StagingTable:
        if entity not in ENTITIES:
            raise UnknownColumnError(f"unknown entity {entity!r}")
        table: Table = ENTITIES[entity][1].__table__  # type: ignore[attr-defined]
        columns = tuple(
            c.name for c in table.columns if c.name != "id" and c.name not in _BOOKKEEPING
        )
        return cls(
            table, columns, frozenset(columns), BulkInsert(table, _BOOKKEEPING + columns, dialect)
        )


@dataclass(frozen=True)
class PageWrite:
    """One page to stage: where it came from, its rows, and its checkpoint values."""

    endpoint: str
    page: int
    rows: Iterable[tuple[str, dict[str, Any]]]
    parent_key: str = ""
    total_reported: int | None = None
    page_limit: int | None = None
    completed: bool = False
    #: API records on the page (one record may give several rows); None = one per row.
    records: int | None = None


class PageWriter:
    """Stages pages for one snapshot; use as a context manager (commits what is pending on a
    clean exit, rolls it back on an exception)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        snapshot_id: int,
        commit_every: int = 10,
        *,
        on_commit: Callable[[], object] | None = None,
    ) -> None:
        if commit_every < 1:
            raise ValueError("commit_every must be at least 1")
        self.snapshot_id = snapshot_id
        self.commit_every = commit_every
        #: Called after each commit, outside any transaction of the writer.
        self.on_commit = on_commit
        self._sessions = sessions
        self._session: Session | None = None
        self._pending_pages = 0
        self._tables: dict[str, _StagingTable] = {}
        self.pages_committed = 0
        self.rows_written = 0

    # -- transaction handling ----------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session of the open batch (a new one starts after each commit)."""
        if self._session is None:
            self._session = self._sessions()
            self._session.begin()
            begin_writing(self._session)
        return self._session

    def commit(self) -> None:
        """Commit the pending batch (rows, checkpoints, gaps) now."""
        if self._session is None:
            return
        self._session.commit()
        self._session.close()
        self._session = None
        self.pages_committed += self._pending_pages
        self._pending_pages = 0
        if self.on_commit is not None:
            self.on_commit()

    def rollback(self) -> None:
        """Drop the pending batch."""
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None
        self._pending_pages = 0

    def __enter__(self) -> PageWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def _page_done(self) -> None:
        self._pending_pages += 1
        if self._pending_pages >= self.commit_every:
            self.commit()

    # -- writing -----------------------------------------------------------------------
    def _table(self, entity: str, session: Session) -> _StagingTable:
        table = self._tables.get(entity)
        if table is None:
            table = self._tables[entity] = _StagingTable.of(entity, session.get_bind().dialect)
        return table

    def write_page(self, write: PageWrite) -> int:
        """Stage one page's rows and advance its checkpoint; returns the rows written."""
        session = self.session
        checkpoint = self._checkpoint_of(session, write)
        if checkpoint is not None and write.page <= (checkpoint.last_page or 0):
            self._refuse_unless_gap(session, write)
        by_entity: dict[str, list[list[Any]]] = defaultdict(list)
        fixed = (self.snapshot_id, write.endpoint, write.parent_key, write.page)
        for seq, (entity, values) in enumerate(write.rows):
            staging = self._table(entity, session)
            if not values.keys() <= staging.names:
                unknown = sorted(set(values) - staging.names)
                raise UnknownColumnError(
                    f"{write.endpoint}: {entity} has no column(s) {', '.join(unknown)}"
                )
            by_entity[entity].append([*fixed, seq, *map(values.get, staging.columns)])
        connection = session.connection()
        written = 0
        for entity, rows in by_entity.items():
            written += self._tables[entity].insert.execute(connection, rows)
        self._checkpoint(
            session, write, written if write.records is None else write.records, checkpoint
        )
        self.rows_written += written
        self._page_done()
        return written

    def _checkpoint_of(self, session: Session, write: PageWrite) -> ExtractionCheckpoint | None:
        return session.scalar(
            select(ExtractionCheckpoint).where(
                ExtractionCheckpoint.snapshot_id == self.snapshot_id,
                ExtractionCheckpoint.endpoint == write.endpoint,
                ExtractionCheckpoint.parent_key == write.parent_key,
            )
        )

    def _refuse_unless_gap(self, session: Session, write: PageWrite) -> None:
        open_gap = session.scalar(
            select(ExtractionGap.id).where(
                ExtractionGap.snapshot_id == self.snapshot_id,
                ExtractionGap.endpoint == write.endpoint,
                ExtractionGap.parent_key == write.parent_key,
                ExtractionGap.page == write.page,
                ExtractionGap.status == GapStatus.OPEN.value,
            )
        )
        if open_gap is None:
            where = f" (parent {write.parent_key})" if write.parent_key else ""
            raise DuplicatePageError(
                f"{write.endpoint}{where} page {write.page} is staged already: "
                "its checkpoint is past it and it is not an open gap"
            )

    def _checkpoint(
        self,
        session: Session,
        write: PageWrite,
        records: int,
        checkpoint: ExtractionCheckpoint | None,
    ) -> None:
        """Advance ``checkpoint`` (the page's, as :meth:`_checkpoint_of` found it; None
        creates it) past ``write``."""
        if checkpoint is None:
            checkpoint = ExtractionCheckpoint(
                snapshot_id=self.snapshot_id,
                endpoint=write.endpoint,
                parent_key=write.parent_key,
                records_extracted=0,
            )
            session.add(checkpoint)
        checkpoint.last_page = max(checkpoint.last_page or 0, write.page)
        checkpoint.records_extracted = (checkpoint.records_extracted or 0) + records
        if write.total_reported is not None:
            checkpoint.total_reported = write.total_reported
        if write.page_limit is not None:
            checkpoint.page_limit = write.page_limit
        checkpoint.completed = checkpoint.completed or write.completed
        checkpoint.updated_at = utcnow()
        session.flush()

    def record_gap(self, gap: ExtractionGap, *, advance: PageWrite | None = None) -> None:
        """Record a page that failed after its retry budget, in the pending batch; with
        ``advance``, also move the checkpoint past it so the run goes on."""
        session = self.session
        gap.snapshot_id = self.snapshot_id
        session.add(gap)
        if advance is not None:
            self._checkpoint(session, advance, 0, self._checkpoint_of(session, advance))
        session.flush()
        self._page_done()

    def discard_endpoint(self, endpoint: str, parent_key: str | None = None) -> None:
        """Forget what was staged for ``endpoint`` (and parent) in this snapshot, with its
        checkpoints and gaps, e.g. after a corrupt checkpoint or a page size change;
        committed at once."""
        session = self.session
        for _history, staging in ENTITIES.values():
            table: Table = staging.__table__  # type: ignore[attr-defined]
            statement = delete(table).where(
                table.c.snapshot_id == self.snapshot_id, table.c.endpoint == endpoint
            )
            if parent_key is not None:
                statement = statement.where(table.c.parent_key == parent_key)
            session.execute(statement)
        for model in (ExtractionCheckpoint, ExtractionGap):
            bookkeeping = delete(model).where(
                model.snapshot_id == self.snapshot_id, model.endpoint == endpoint
            )
            if parent_key is not None:
                bookkeeping = bookkeeping.where(model.parent_key == parent_key)
            session.execute(bookkeeping)
        self.commit()
