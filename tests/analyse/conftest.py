"""Analysis-test fixtures: factories bound to the rolled-back test session, and a
sessionmaker on the same connection for the calculator and the checker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import bind_session
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def factory_session(db_session: Session) -> Iterator[Session]:
    """Point every factory at ``db_session`` (flushes; rolled back after the test)."""
    bind_session(db_session)
    try:
        yield db_session
    finally:
        bind_session(None)


@pytest.fixture
def bind(factory_session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection: their commits become savepoints, so everything
    the analysis writes is rolled back with the test."""
    return sessionmaker(
        bind=factory_session.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )
