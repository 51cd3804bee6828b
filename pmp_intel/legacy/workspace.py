"""A scratch SQLite database where the bulk of the legacy import is done in SQL.

The legacy files are ``ATTACH``-ed to it with the URI ``mode=ro``: SQLite reads them and
cannot write a byte to them (nor a journal next to them). The scratch database itself is a
file in a private temporary folder, deleted on :meth:`Workspace.close`; the mapped rows
it ends up with are copied into the target by :mod:`pmp_intel.legacy.transfer`.

The only Python called per row is ``legacy_ms(text, local)``: legacy text timestamps to
epoch milliseconds, because local-time text needs the IANA zone's daylight-saving rules,
which SQLite does not have (results are cached: the same texts recur).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from pmp_intel.legacy import values as v
from pmp_intel.legacy.errors import LegacyFileError, LegacyImportError
from pmp_intel.legacy.files import LegacyFile, describe_error

#: MATERIALIZED common table expressions (3.35) and the JSON functions are needed.
MIN_SQLITE = (3, 35, 0)
#: Rows fetched per round trip when Python reads a result.
FETCH = 5000
#: Name prefix of the scratch folders (``<prefix><pid>-<random>`` in the temporary folder).
PREFIX = "pmp-legacy-"


def remove_abandoned() -> None:
    """Delete the scratch folders of imports whose process is gone (killed: nothing else
    leaves one behind)."""
    if os.name != "posix":  # os.kill(pid, 0) is not a probe elsewhere
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


@lru_cache(maxsize=1 << 17)
def _local_ms(text: str, zone: tzinfo | None) -> int | None:
    return _ms(v.local_text(text, zone))


@lru_cache(maxsize=1 << 17)
def _utc_ms(text: str) -> int | None:
    return _ms(v.utc_text(text))


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


class Workspace:
    """The scratch database, with each non-empty legacy file attached read-only as
    ``l0``, ``l1``… (see :meth:`alias`)."""

    def __init__(self, files: Sequence[LegacyFile], zone: tzinfo | None, timeout: float) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise LegacyImportError(
                f"the legacy import needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer "
                f"(this Python has {sqlite3.sqlite_version})"
            )
        self.zone = zone
        remove_abandoned()
        self._folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        self.path = Path(self._folder) / "work.db"
        # used by one thread at a time, not always the one that opened it
        self.db = sqlite3.connect(
            self.path.as_uri(),
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        for pragma in ("journal_mode = OFF", "synchronous = OFF"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.create_function("legacy_ms", 2, self._legacy_ms, deterministic=True)
        self._aliases: dict[str, str] = {}
        for number, legacy in enumerate(files):
            if legacy.size == 0:
                continue
            alias = f"l{number}"
            try:
                self.db.execute(
                    f"ATTACH DATABASE ? AS {alias}",
                    (f"{legacy.path.resolve().as_uri()}?mode=ro",),
                )
            except sqlite3.Error as exc:
                self.close()
                raise LegacyFileError(
                    f"{legacy.path}: cannot open read-only: {describe_error(exc, legacy.path)}"
                ) from None
            self._aliases[legacy.name] = alias

    def _legacy_ms(self, text: Any, local: Any) -> int | None:
        if text is None:
            return None
        if not isinstance(text, str):
            text = v.to_text(text)
            if text is None:
                return None
        return _local_ms(text, self.zone) if local else _utc_ms(text)

    def alias(self, legacy: LegacyFile) -> str:
        """The schema name ``legacy`` is attached under."""
        return self._aliases[legacy.name]

    def table(self, legacy: LegacyFile, table: str) -> str:
        """The qualified SQL name of a legacy table."""
        return f'{self.alias(legacy)}."{table}"'

    @contextmanager
    def reading(self, legacy: LegacyFile | None, table: str | None) -> Iterator[None]:
        """Turn SQLite errors while reading ``table`` of ``legacy`` into one line naming both."""
        try:
            yield
        except sqlite3.Error as exc:
            if legacy is None:
                raise LegacyImportError(f"legacy import: scratch database: {exc}") from None
            where = f" table {table}:" if table else ""
            raise LegacyFileError(
                f"{legacy.path}:{where} {describe_error(exc, legacy.path)}"
            ) from None

    def execute(
        self,
        sql: str,
        parameters: Sequence[Any] = (),
        *,
        legacy: LegacyFile | None = None,
        table: str | None = None,
    ) -> sqlite3.Cursor:
        """Run one statement (errors name the legacy file and table it reads)."""
        with self.reading(legacy, table):
            return self.db.execute(sql, parameters)

    def rows(
        self,
        sql: str,
        parameters: Sequence[Any] = (),
        *,
        legacy: LegacyFile | None = None,
        table: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched in batches."""
        with self.reading(legacy, table):
            cursor = self.db.execute(sql, parameters)
            while batch := cursor.fetchmany(FETCH):
                yield from batch

    def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query on the scratch tables."""
        row = self.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        """Detach the legacy files and delete the scratch database."""
        try:
            self.db.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
