from sqlalchemy import select
from sqlalchemy.orm import Session

from pmp_intel.store.models import Snapshot, Source


def test_source_and_snapshot_round_trip(db_session: Session) -> None:
    source = Source(name="smoke-prod", base_url="https://patch.manageengine.com.au")
    db_session.add(source)
    db_session.flush()
    db_session.add(Snapshot(source_id=source.id))
    db_session.flush()
    snapshot = db_session.scalars(select(Snapshot).where(Snapshot.source_id == source.id)).one()
    assert snapshot.status == "in_progress"
    assert snapshot.started_at.tzinfo is not None
