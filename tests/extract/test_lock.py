"""One extraction per source: a second run is refused; a dead or stale holder is replaced."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from fresh_source import Fresh

from pmp_intel.extract.lock import LockHeldError, SourceLock, holder_is_gone, this_holder


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


def test_second_holder_is_refused_with_the_holder_named(fresh: Fresh) -> None:
    first = SourceLock(fresh.sessions, fresh.source_id, holder="otherhost:123")
    first.acquire()
    second = SourceLock(fresh.sessions, fresh.source_id)
    with pytest.raises(LockHeldError, match="otherhost:123"):
        second.acquire()
    first.release()
    second.acquire()  # free again
    second.release()


def test_lock_of_a_dead_process_is_taken_over(fresh: Fresh) -> None:
    dead = f"{socket.gethostname()}:999999"
    assert holder_is_gone(dead)
    SourceLock(fresh.sessions, fresh.source_id, holder=dead).acquire()
    mine = SourceLock(fresh.sessions, fresh.source_id)
    mine.acquire()
    assert mine.taken_over_from == dead
    mine.release()


def test_stale_heartbeat_is_taken_over(fresh: Fresh) -> None:
    clock = Clock()
    SourceLock(fresh.sessions, fresh.source_id, holder="farhost:1", now=clock).acquire()
    clock.moment += timedelta(minutes=10)
    with pytest.raises(LockHeldError):
        SourceLock(fresh.sessions, fresh.source_id, now=clock).acquire()
    clock.moment += timedelta(minutes=30)
    mine = SourceLock(fresh.sessions, fresh.source_id, now=clock)
    mine.acquire()
    assert mine.taken_over_from == "farhost:1"
    mine.release()


def test_heartbeat_keeps_a_lock_alive(fresh: Fresh) -> None:
    clock = Clock()
    holder = SourceLock(fresh.sessions, fresh.source_id, holder="farhost:2", now=clock)
    holder.acquire()
    clock.moment += timedelta(minutes=25)
    holder.heartbeat()
    clock.moment += timedelta(minutes=25)
    with pytest.raises(LockHeldError):
        SourceLock(fresh.sessions, fresh.source_id, now=clock).acquire()
    holder.release()


def test_this_process_is_alive() -> None:
    assert not holder_is_gone(this_holder())
