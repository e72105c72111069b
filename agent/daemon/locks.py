"""One inbox poller at a time: a PostgreSQL advisory lock held on its own connection; SQLite needs none.

The lock lives as long as the connection: when the daemon holding it dies, PostgreSQL ends its
session and the lock is free, so the next daemon's poll tick takes over. Outbox rows and due
follow-ups are shared differently (row locks with SKIP LOCKED, in the sender and the scan).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


class PollerLock(Protocol):
    def acquire(self) -> bool:
        """True when this process may poll now (takes the lock if it is free); never blocks."""

    def release(self) -> None: ...

    @property
    def held(self) -> bool: ...


def lock_key(name: str) -> int:
    """A stable signed 64-bit key from a name, the type pg_try_advisory_lock takes."""
    digest = hashlib.sha256(f"records-agent:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class NoLock:
    """SQLite: a single daemon by design, so polling is always allowed."""

    held = True

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated autocommit connection that is checked before every use."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._key = lock_key(name)
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        if self._conn is not None:
            if self._alive():
                return True
            # The connection died (server restart, network): whatever we held is gone; try again from scratch.
            log.warning("inbox lock connection lost; trying to take the lock again", extra={"lock": self._name})
            self._drop()
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:  # noqa: BLE001 - no database, no lock; the poll waits for the next tick
            log.warning("cannot connect to take the inbox lock: %s", exc, extra={"lock": self._name})
            return False
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        except Exception as exc:  # noqa: BLE001
            log.warning("taking the inbox lock failed: %s", exc, extra={"lock": self._name})
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.info("took the inbox lock: this daemon polls the inbox", extra={"lock": self._name})
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except Exception:  # noqa: BLE001 - closing the connection releases it anyway
            pass
        self._drop()

    def _alive(self) -> bool:
        assert self._conn is not None
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001
                pass


def poller_lock(engine: Engine, account: str) -> PollerLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, f"inbox:{account}")
    return NoLock()
