"""Fixtures for extractor tests that need real commits (their own sessions)."""

from __future__ import annotations

import pytest
from fresh_source import Fresh, make_fresh
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.store.engine import session_factory


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def fresh(sessions: sessionmaker[Session]) -> Fresh:
    return make_fresh(sessions)
