"""One inbox poller at a time on PostgreSQL; the lock moves to another daemon when its holder dies."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from agent.daemon.locks import AdvisoryLock, NoLock, lock_key, poller_lock
from agent.db.session import make_engine


def _eventually(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_sqlite_needs_no_lock(sqlite_url: str) -> None:
    lock = poller_lock(make_engine(sqlite_url), "default")
    assert isinstance(lock, NoLock) and lock.acquire() and lock.held


def test_lock_key_is_stable_and_signed_64_bit() -> None:
    assert lock_key("inbox:default") == lock_key("inbox:default") != lock_key("inbox:other")
    assert -(2**63) <= lock_key("inbox:default") < 2**63


@pytest.mark.postgres
def test_one_holder_and_takeover_when_it_dies(fresh_pg_url: str) -> None:
    a_engine, b_engine = make_engine(fresh_pg_url), make_engine(fresh_pg_url)
    a, b = poller_lock(a_engine, "default"), poller_lock(b_engine, "default")
    assert isinstance(a, AdvisoryLock)
    try:
        assert a.acquire() is True
        assert a.acquire() is True  # re-entrant for its holder
        assert b.acquire() is False
        assert b.acquire() is False
        # The holder "dies": its backend is terminated, as when the process is killed.
        pid = a._conn.execute(text("SELECT pg_backend_pid()")).scalar()  # type: ignore[union-attr]
        with b_engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            admin.commit()
        # The backend exits a moment later; the next poll tick of the other daemon takes over.
        assert _eventually(b.acquire)
        # The old holder notices its connection is gone and does not think it still polls.
        assert a.acquire() is False
        b.release()
        assert a.acquire() is True
    finally:
        a.release()
        b.release()
        a_engine.dispose()
        b_engine.dispose()
