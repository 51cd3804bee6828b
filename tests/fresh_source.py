"""A source and snapshot of a test's own, for tests that commit through their own sessions
(rows of different tests never meet because every natural key is scoped by source)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.store.engine import unit_of_work
from pmp_intel.store.models import Snapshot, Source


@dataclass
class Fresh:
    """Sessions on the test database, plus a new source and an open snapshot of it."""

    sessions: sessionmaker[Session]
    source_id: int
    snapshot_id: int


def make_fresh(sessions: sessionmaker[Session]) -> Fresh:
    """Create a uniquely named source with one in-progress snapshot."""
    with unit_of_work(sessions) as session:
        source = Source(name=f"test-{uuid.uuid4().hex[:10]}")
        session.add(source)
        session.flush()
        snapshot = Snapshot(source_id=source.id)
        session.add(snapshot)
        session.flush()
        return Fresh(sessions, source.id, snapshot.id)
