"""Freshness from real snapshot times only; results convert to dicts and DataFrames."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from pmp_intel.service import PMPIntelligenceService, QueryResult
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import Snapshot, Source


def _add_snapshot(url: str, source: str, started: datetime, status: str = "complete") -> int:
    engine = create_db_engine(url)
    with Session(engine) as session, session.begin():
        found = session.query(Source).filter_by(name=source).one_or_none()
        if found is None:
            found = Source(name=source)
            session.add(found)
            session.flush()
        snap = Snapshot(source_id=found.id, status=status, started_at=started, finished_at=started)
        session.add(snap)
        session.flush()
        snapshot_id = snap.id
    engine.dispose()
    return snapshot_id


def test_freshness_follows_the_newest_snapshot(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    upgrade(engine)
    engine.dispose()
    service = PMPIntelligenceService(url=fresh_database_url)
    (info,) = service.get_data_freshness_report().values()
    assert (info.last_refresh, info.is_stale) == (None, True)
    assert "No snapshot" in (info.warning or "")
    assert service.is_stale()
    now = datetime.now(UTC)
    _add_snapshot(fresh_database_url, "prod", now - timedelta(days=10))
    (info,) = service.get_data_freshness_report().values()
    assert info.is_stale
    assert info.days_old == 10
    assert info.warning == "Data is 10 days old"
    # a failed (never merged) snapshot does not make the data fresh
    _add_snapshot(fresh_database_url, "prod", now - timedelta(hours=1), status="failed")
    assert service.is_stale()
    recent = now - timedelta(days=1)
    newest = _add_snapshot(fresh_database_url, "prod", recent)
    (info,) = service.get_data_freshness_report().values()
    assert (info.is_stale, info.days_old, info.warning) == (False, 1, None)
    assert not service.is_stale()
    result = service.get_vulnerable_systems()
    assert (result.is_stale, result.staleness_warning, result.snapshot_id) == (False, None, newest)
    assert result.extraction_timestamp == recent
    # two sources and none chosen: the service asks which
    _add_snapshot(fresh_database_url, "other", now)
    with pytest.raises(ValueError, match="several sources"):
        service.get_vulnerable_systems()
    assert PMPIntelligenceService(url=fresh_database_url, source="prod").is_stale() is False
    missing = PMPIntelligenceService(url=fresh_database_url, source="nope")
    assert missing.is_stale()
    assert "No source named 'nope'" in (missing.get_vulnerable_systems().staleness_warning or "")
    service.close()


def test_staleness_rule_of_query_result() -> None:
    now = datetime.now(UTC)
    assert not QueryResult([], "db", now - timedelta(days=7, hours=23)).is_stale
    old = QueryResult([], "db", now - timedelta(days=8))
    assert old.is_stale
    assert old.staleness_warning == "Data is 8 days old"
    never = QueryResult([], "db", None)
    assert never.is_stale
    assert never.staleness_warning


def test_conversions(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    result = QueryResult(rows, "db", datetime.now(UTC))
    copied = result.to_dicts()
    copied[0]["a"] = 99
    assert result.data[0]["a"] == 1
    assert list(result) == rows
    empty = QueryResult([], "db", None, columns=("a", "b"))
    import pandas as pd  # the test extra installs it

    frame = result.to_pandas()
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1, 2]
    assert list(empty.to_pandas().columns) == ["a", "b"]
    assert isinstance(frame, pd.DataFrame)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pmp-intel\[pandas\]"):
        result.to_pandas()
