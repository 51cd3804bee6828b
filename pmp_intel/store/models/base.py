"""Declarative base, naming convention, and the history / staging mixins.

History model (design.md §2): a history row is true from ``valid_from_snapshot_id``
(inclusive) up to ``valid_to_snapshot_id`` (exclusive); NULL means still current. The state
of a source at snapshot *S* is every row with ``valid_from <= S`` and ``valid_to IS NULL OR
valid_to > S``. Snapshot ids grow with time within a source, which is what makes ``<=``
meaningful.

Each entity is declared once as a plain *fields* mixin and mapped twice: as its history
table and as its staging table (``stg_*``), into which the extractor writes pages before a
snapshot's merge. Both therefore always have the same columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from pmp_intel.store.types import BigIntPK, JSONDoc, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CURRENT_ROW = text("valid_to_snapshot_id IS NULL")

#: Enumerated values a column may hold, enforced as a CHECK constraint.
Domains = dict[str, tuple[int, ...] | tuple[str, ...]]


class Base(DeclarativeBase):
    """Declarative base of every pmp-intel table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (read once by SQLAlchemy at class creation)
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDoc,
    }


def domain_check(column: str, values: tuple[int, ...] | tuple[str, ...]) -> CheckConstraint:
    """A named CHECK that ``column`` is NULL or one of ``values``."""
    rendered = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)
    return CheckConstraint(f"{column} IS NULL OR {column} IN ({rendered})", name=f"{column}_domain")


class EntityFields:
    """Columns shared by an entity's history and staging tables.

    Subclasses declare their natural key (``__natural_key__``), enumerated domains
    (``__domains__``, enforced as CHECK constraints on both tables), extra lookup paths
    (``__lookup_indexes__``, history table only) and volatile observation columns
    (``__volatile__``: refreshed in place on the current row instead of opening a new
    version, because they change on every contact — see docs/schema.md).
    """

    __natural_key__: ClassVar[tuple[str, ...]] = ()
    __domains__: ClassVar[Domains] = {}
    __lookup_indexes__: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: Partial indexes over the *current* rows only (``valid_to_snapshot_id IS NULL``, plus
    #: an optional further condition in SQL, "" for none), history table only:
    #: name suffix → (columns, condition), named ``ix_<table>_current_<suffix>``.
    __current_indexes__: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {}
    __volatile__: ClassVar[tuple[str, ...]] = ()

    #: Fields the server sent that this model has no column for; kept, never dropped.
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)


class HistoryMixin(EntityFields):
    """Validity-range columns, keys and indexes of a history table."""

    __tablename__: Any

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)

    @declared_attr
    def source_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("sources.id", ondelete="CASCADE"))

    @declared_attr
    def valid_from_snapshot_id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE"))

    @declared_attr
    def valid_to_snapshot_id(cls) -> Mapped[int | None]:
        # No ON DELETE action: re-opening the versions a snapshot closed must happen after the
        # versions it opened are gone (SQLite would fire SET NULL first and break the
        # one-current-row index), so pmp_intel.store.history.delete_snapshot does it in order
        # and a bare DELETE of such a snapshot is refused instead of corrupting history.
        return mapped_column(BigInteger, ForeignKey("snapshots.id"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        key = ("source_id", *cls.__natural_key__)
        return (
            UniqueConstraint(*key, "valid_from_snapshot_id", name=f"uq_{name}_version"),
            Index(
                f"uq_{name}_current",
                *key,
                unique=True,
                sqlite_where=CURRENT_ROW,
                postgresql_where=CURRENT_ROW,
            ),
            Index(f"ix_{name}_valid_from", "valid_from_snapshot_id"),
            Index(f"ix_{name}_valid_to", "valid_to_snapshot_id"),
            *(Index(f"ix_{name}_{'_'.join(cols)}", *cols) for cols in cls.__lookup_indexes__),
            *(
                Index(
                    f"ix_{name}_current_{suffix}",
                    *cols,
                    sqlite_where=_current_and(condition),
                    postgresql_where=_current_and(condition),
                )
                for suffix, (cols, condition) in cls.__current_indexes__.items()
            ),
            *(domain_check(col, values) for col, values in cls.__domains__.items()),
        )


def _current_and(condition: str) -> Any:
    """The current-row predicate, and ``condition`` if any (partial index WHERE)."""
    return text(f"valid_to_snapshot_id IS NULL AND {condition}") if condition else CURRENT_ROW


class StagingMixin(EntityFields):
    """Columns of a staging table: which snapshot, endpoint, parent and page a row came from.

    A row's ``id`` is its order of writing (the merge keeps the last of repeated natural
    keys). ``(snapshot_id, endpoint, parent_key, page, seq)`` identifies a row too, but it has
    no unique index of its own: such an index cost a third of the staging time, and the page
    writer already refuses a page at or below its checkpoint that is not an open gap
    (:class:`pmp_intel.extract.staging.DuplicatePageError`), the only way to write one twice.
    """

    __tablename__: Any

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    #: The fan-out parent (``resid`` or ``patchid``) or '' for plain paged endpoints.
    parent_key: Mapped[str] = mapped_column(String(64), default="")
    page: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)

    @declared_attr
    def snapshot_id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        return (
            Index(f"ix_{name}_natural_key", "snapshot_id", *cls.__natural_key__),
            *(domain_check(col, values) for col, values in cls.__domains__.items()),
        )


class SnapshotScoped:
    """A per-snapshot row (metrics, compliance, summaries): deleted with its snapshot."""

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)

    @declared_attr
    def snapshot_id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, ForeignKey("snapshots.id", ondelete="CASCADE"), index=True)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
