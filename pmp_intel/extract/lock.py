"""One extraction per source at a time: a lock row in the database.

The row is inserted by the run that starts; a second run finds it and stops with a clear
message (exit 1). A lock whose holder process is gone (same host, pid not alive) or whose
heartbeat is older than ``stale_after`` is taken over, so a crashed run never blocks cron.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.errors import PMPIntelError
from pmp_intel.store.engine import begin_writing
from pmp_intel.store.models import ExtractionLock
from pmp_intel.store.types import utcnow


class LockHeldError(PMPIntelError):
    """Another extraction of the same source is running."""


def this_holder() -> str:
    """``host:pid`` of the current process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` names a process on this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _pid_alive(int(pid))


class SourceLock:
    """The extraction lock of one source."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source_id: int,
        *,
        holder: str | None = None,
        stale_after: timedelta = timedelta(minutes=30),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.source_id = source_id
        self.holder = holder or this_holder()
        self.stale_after = stale_after
        self.now = now
        self.taken_over_from: str | None = None

    def acquire(self, snapshot_id: int | None = None) -> None:
        """Take the lock, or raise :class:`LockHeldError` naming its holder."""
        moment = self.now()
        try:
            with self.sessions() as session, session.begin():
                begin_writing(session)
                session.add(
                    ExtractionLock(
                        source_id=self.source_id,
                        snapshot_id=snapshot_id,
                        holder=self.holder,
                        acquired_at=moment,
                        heartbeat_at=moment,
                    )
                )
            return
        except IntegrityError:
            pass
        with self.sessions() as session, session.begin():
            begin_writing(session)
            existing = session.get(ExtractionLock, self.source_id, with_for_update=True)
            if existing is None:  # released in between: try once more from scratch
                session.add(
                    ExtractionLock(
                        source_id=self.source_id,
                        snapshot_id=snapshot_id,
                        holder=self.holder,
                        acquired_at=moment,
                        heartbeat_at=moment,
                    )
                )
                return
            stale = moment - existing.heartbeat_at > self.stale_after
            if existing.holder != self.holder and not stale and not holder_is_gone(existing.holder):
                since = existing.acquired_at.isoformat(timespec="seconds")
                raise LockHeldError(
                    f"another extraction of this source is running ({existing.holder}, "
                    f"since {since}); try again when it ends"
                )
            self.taken_over_from = existing.holder
            existing.holder = self.holder
            existing.snapshot_id = snapshot_id
            existing.acquired_at = moment
            existing.heartbeat_at = moment

    def heartbeat(self, snapshot_id: int | None = None) -> None:
        """Refresh the heartbeat (and the snapshot the holder works on)."""
        values: dict[str, object] = {"heartbeat_at": self.now()}
        if snapshot_id is not None:
            values["snapshot_id"] = snapshot_id
        with self.sessions() as session, session.begin():
            begin_writing(session)
            session.execute(
                update(ExtractionLock)
                .where(
                    ExtractionLock.source_id == self.source_id,
                    ExtractionLock.holder == self.holder,
                )
                .values(**values)
            )

    def release(self) -> None:
        """Give the lock up (only if this process still holds it)."""
        with self.sessions() as session, session.begin():
            begin_writing(session)
            session.execute(
                delete(ExtractionLock).where(
                    ExtractionLock.source_id == self.source_id,
                    ExtractionLock.holder == self.holder,
                )
            )

    def __enter__(self) -> SourceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
