"""Store-test fixtures: factories bound to the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from factories import bind_session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

#: ``reject(create, match=None)``: see the ``reject`` fixture.
Reject = Callable[..., IntegrityError]


@pytest.fixture
def factory_session(db_session: Session) -> Iterator[Session]:
    """Point every factory at ``db_session`` (flushes; rolled back after the test)."""
    bind_session(db_session)
    try:
        yield db_session
    finally:
        bind_session(None)


@pytest.fixture
def reject(db_session: Session) -> Reject:
    """``reject(create, match)``: ``create()`` must raise IntegrityError (``match`` searched in
    its message). It runs in a savepoint, so the test's session stays usable afterwards."""

    def check(create: Callable[[], object], match: str | None = None) -> IntegrityError:
        with pytest.raises(IntegrityError, match=match) as info, db_session.begin_nested():
            create()
        return info.value

    return check
