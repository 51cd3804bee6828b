"""Find, open (read-only) and recognise the legacy SQLite files.

A legacy file is only ever opened with the SQLite URI ``mode=ro`` and ``PRAGMA query_only``,
so nothing — not even a journal — is written next to it. Each table is matched to a known
shape by its columns (:mod:`pmp_intel.legacy.shapes`); the file name is only used to find
the files and to recognise the two databases the old plans call empty.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from pmp_intel.legacy.errors import LegacyFileError
from pmp_intel.legacy.shapes import (
    EXPECTED_EMPTY_FILES,
    INTERNAL_TABLES,
    KNOWN_FILES,
    Shape,
    match_shape,
)

#: How long to wait for another process's lock on a legacy file before giving up.
LOCK_TIMEOUT_S = 2.0


@dataclass
class LegacyTable:
    """One table of a legacy file, with its recognised shape (None: not a Maia table)."""

    file: str
    name: str
    columns: frozenset[str]
    rows: int
    shape: Shape | None
    #: A known table name with columns of no known shape, holding no rows: reported, not
    #: fatal (a wasted schema; there is nothing in it to misread).
    unexpected: bool = False

    @property
    def shape_key(self) -> str:
        """The shape's key, or what the table is instead (for the report)."""
        if self.shape is not None:
            return self.shape.key
        return "unexpected columns" if self.unexpected else "unrecognised"


@dataclass
class LegacyFile:
    """One legacy SQLite file and what it holds."""

    path: Path
    size: int
    sha256: str
    tables: dict[str, LegacyTable] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name (``pmp_config.db``…)."""
        return self.path.name

    @property
    def rows(self) -> int:
        """Rows in all of its tables."""
        return sum(t.rows for t in self.tables.values())

    @property
    def empty(self) -> bool:
        """True when the file holds no rows at all."""
        return self.rows == 0

    @property
    def families(self) -> list[str]:
        """The table families found (A, B, C, R)."""
        return sorted({t.shape.family for t in self.tables.values() if t.shape is not None})

    def recognised(self) -> list[LegacyTable]:
        """Tables with a known shape, in name order."""
        return [t for t in self.tables.values() if t.shape is not None]

    def table(self, shape_key: str) -> LegacyTable | None:
        """The table with the shape ``shape_key`` (e.g. ``A.all_systems``), if present."""
        for table in self.tables.values():
            if table.shape is not None and table.shape.key == shape_key:
                return table
        return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hot_journal(path: Path) -> Path | None:
    """The rollback journal beside ``path`` if there is a non-empty one (left by a writer
    killed in the middle of a transaction, or held by one still writing)."""
    journal = path.with_name(path.name + "-journal")
    try:
        return journal if journal.stat().st_size > 0 else None
    except OSError:
        return None


def describe_error(exc: sqlite3.Error, path: Path | None = None) -> str:
    """A SQLite error as a short reason (locked, corrupt, an unfinished transaction…)."""
    text = str(exc).strip() or type(exc).__name__
    journal = hot_journal(path) if path is not None else None
    if path is not None and journal is not None and "readonly" in text.replace(" ", ""):
        # SQLite must roll a hot journal back before anyone reads the file, and a read-only
        # connection cannot: the import never writes beside a legacy file
        return (
            f"the file has an unfinished transaction: a writer was killed in the middle of "
            f"one and left its rollback journal {journal.name} beside it, which read-only "
            f"access cannot roll back. Copy the folder (each .db with its -journal), open the "
            f"copy once with sqlite3 (e.g. sqlite3 COPY/{path.name} 'PRAGMA integrity_check;'"
            f"), which rolls the unfinished transaction back, and import from the copy "
            f"({text})"
        )
    if "locked" in text or "busy" in text:
        return f"locked by another process ({text})"
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return f"corrupt or not a SQLite database ({text})"
    return text


def open_readonly(path: Path, timeout: float = LOCK_TIMEOUT_S) -> sqlite3.Connection:
    """A read-only connection to ``path`` (URI ``mode=ro``, ``query_only``)."""
    if not path.is_file():
        raise LegacyFileError(f"{path}: legacy file is missing or not a regular file")
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, check_same_thread=False
        )
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise LegacyFileError(
            f"{path}: cannot open read-only: {describe_error(exc, path)}"
        ) from None
    return connection


def quote(name: str) -> str:
    """A SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def inspect_file(path: Path, timeout: float = LOCK_TIMEOUT_S) -> LegacyFile:
    """Open ``path`` read-only and recognise every table in it.

    Raises :class:`LegacyFileError` for a missing, locked, corrupt or foreign file, or a
    table with a known name and unexpected columns that holds rows (an empty one is
    recorded as ``unexpected`` and reported)."""
    if not path.is_file():
        raise LegacyFileError(f"{path}: legacy file is missing or not a regular file")
    legacy = LegacyFile(path=path, size=path.stat().st_size, sha256=file_sha256(path))
    if legacy.size == 0:
        return legacy
    connection = open_readonly(path, timeout)
    current = "sqlite_master"
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for name in names:
            if name in INTERNAL_TABLES:
                continue
            current = name
            columns = frozenset(
                row[1] for row in connection.execute(f"PRAGMA table_info({quote(name)})")
            )
            rows = connection.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
            try:
                shape = match_shape(name, columns)
            except LookupError:
                if rows:
                    raise LegacyFileError(
                        f"{path}: table {name} has unexpected columns "
                        f"({', '.join(sorted(columns))}); it matches no known Maia shape"
                    ) from None
                legacy.tables[name] = LegacyTable(path.name, name, columns, 0, None, True)
                continue
            legacy.tables[name] = LegacyTable(path.name, name, columns, int(rows), shape)
    except sqlite3.Error as exc:
        where = "" if current == "sqlite_master" else f" table {current}:"
        raise LegacyFileError(f"{path}:{where} {describe_error(exc, path)}") from None
    finally:
        connection.close()
    if not legacy.empty and not legacy.recognised():
        found = ", ".join(sorted(legacy.tables)) or "no tables"
        raise LegacyFileError(f"{path}: not a Maia PMP database (no known table among: {found})")
    return legacy


@dataclass
class Discovery:
    """What a legacy folder holds."""

    directory: Path
    files: list[LegacyFile]
    #: Other files in the folder that were not read (e.g. the old ``pmp_intelligence.db``).
    ignored: list[str]

    @property
    def checksums(self) -> dict[str, str]:
        """File name → SHA-256, of the files that were read."""
        return {f.name: f.sha256 for f in self.files}


def discover(
    directory: Path, *, exclude: Path | None = None, timeout: float = LOCK_TIMEOUT_S
) -> Discovery:
    """Inspect the known legacy files present in ``directory`` (any subset of them).

    ``exclude`` is the target database file, never read as a source. Raises
    :class:`LegacyFileError` when the folder is missing or holds none of the known files."""
    directory = directory.expanduser()
    if not directory.is_dir():
        raise LegacyFileError(f"{directory}: legacy folder does not exist")
    excluded = exclude.resolve() if exclude is not None else None
    files: list[LegacyFile] = []
    for name in KNOWN_FILES:
        path = directory / name
        if path.exists() and (excluded is None or path.resolve() != excluded):
            files.append(inspect_file(path, timeout))
    ignored = sorted(
        p.name
        for p in directory.iterdir()
        if p.name not in KNOWN_FILES
        and p.suffix in (".db", ".sqlite", ".sqlite3")
        and (excluded is None or p.resolve() != excluded)
    )
    if not files:
        raise LegacyFileError(
            f"{directory}: none of the legacy files ({', '.join(KNOWN_FILES[:3])}) is there"
        )
    return Discovery(directory, files, ignored)


def expected_empty(legacy: LegacyFile) -> bool:
    """True for the two databases no code ever wrote, when they are indeed empty."""
    return legacy.name in EXPECTED_EMPTY_FILES and legacy.empty
