"""Which senders are alive: a heartbeat row per worker while it drains, and the proofs that one is dead.

A row claimed by a sender that died waits out the lease unless we can tell the sender is gone. Two
proofs are trusted, both only on the host the sender ran on: its process id no longer exists, or its
heartbeat (renewed every HEARTBEAT while a pass runs) is stale. A wrong "dead" is still safe: the
row's conditional updates stop the live sender from mailing a row someone else settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from agent.daemon.status import publish
from agent.db.models import DaemonState
from agent.operators.clock import as_utc

log = logging.getLogger(__name__)

PREFIX = "worker:"
HEARTBEAT = dt.timedelta(seconds=15)
# Leftovers of senders that crashed are removed once nobody could still need them.
FORGET_AFTER = dt.timedelta(days=2)


@dataclass(frozen=True)
class Worker:
    worker_id: str
    host: str | None
    pid: int | None
    beat_at: dt.datetime | None  # None: no heartbeat row (an older version, or between passes)


def this_host() -> str:
    return socket.gethostname()


def beat(session: Session, worker_id: str, now: dt.datetime) -> None:
    publish(session, PREFIX + worker_id, {"host": this_host(), "pid": os.getpid(), "at": now.isoformat()})


def forget(session: Session, worker_id: str, now: dt.datetime) -> None:
    """A pass ended cleanly: drop our heartbeat, and any crashed sender's that is long past use."""
    session.execute(delete(DaemonState).where(DaemonState.name == PREFIX + worker_id))
    session.execute(
        delete(DaemonState).where(DaemonState.name.startswith(PREFIX), DaemonState.updated_at < now - FORGET_AFTER)
    )


def known(session: Session, worker_ids: Iterable[str]) -> list[Worker]:
    """What we know of each worker: its heartbeat if any, else what a `host:pid` id says."""
    ids = sorted(set(worker_ids))
    rows = {
        r.name[len(PREFIX):]: r
        for r in session.scalars(select(DaemonState).where(DaemonState.name.in_([PREFIX + w for w in ids])))
    }
    found: list[Worker] = []
    for worker_id in ids:
        row = rows.get(worker_id)
        value = row.value if row is not None and isinstance(row.value, dict) else {}
        host, pid = _parse_id(worker_id)
        if value:
            host = str(value.get("host") or host or "") or None
            pid = _int(value.get("pid"), pid)
        found.append(Worker(worker_id, host, pid, as_utc(row.updated_at) if row is not None else None))
    return found


def is_dead(worker: Worker, now: dt.datetime, stale_after: dt.timedelta) -> bool:
    if worker.host is None or worker.host != this_host():
        return False  # another machine's processes and clock are not ours to judge
    if worker.pid is not None and not _pid_alive(worker.pid):
        return True
    return worker.beat_at is not None and now - worker.beat_at > stale_after


@contextlib.asynccontextmanager
async def heartbeat(sessions: sessionmaker[Session], worker_id: str, now: dt.datetime) -> AsyncIterator[None]:
    """Beat before the pass claims anything and every HEARTBEAT while it runs; forget it on a clean end."""
    await asyncio.to_thread(_write, sessions, worker_id, now)
    task = asyncio.create_task(_keep_beating(sessions, worker_id))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # Not in `finally`: a pass that failed keeps its heartbeat, which then goes stale like a crash's.
    await asyncio.to_thread(_forget, sessions, worker_id)


async def _keep_beating(sessions: sessionmaker[Session], worker_id: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            await asyncio.to_thread(_write, sessions, worker_id, _utcnow())
        except Exception as exc:  # noqa: BLE001 - a missed beat only makes others wait for the lease
            log.warning("outbox heartbeat not written: %s", exc)


def _write(sessions: sessionmaker[Session], worker_id: str, now: dt.datetime) -> None:
    with sessions.begin() as session:
        beat(session, worker_id, now)


def _forget(sessions: sessionmaker[Session], worker_id: str) -> None:
    with sessions.begin() as session:
        forget(session, worker_id, _utcnow())


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _parse_id(worker_id: str) -> tuple[str | None, int | None]:
    host, sep, pid = worker_id.rpartition(":")
    if sep and host and pid.isdigit():
        return host, int(pid)
    return None, None


def _int(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a process id we can test; assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # it exists (another user's), or is not a pid we can test
    return True
