"""Several daemons on one database: every due follow-up is queued once and every outbox row is sent once."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import time_machine
from sqlalchemy import func, select

from agent.db.models import Outbox
from agent.followups.scan import scan_once
from agent.outbox.send import drain_once

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)
N = 12


async def test_parallel_senders_and_scanners_never_duplicate(sessions, settings, smtp_server, new_request) -> None:
    ids = [new_request(now=T0, email=f"clerk{i}@agency{i}.example") for i in range(N)]

    # Two senders drain the same outbox at once.
    with time_machine.travel(T0, tick=True):
        reports = await asyncio.gather(
            drain_once(settings, sessions, worker_id="a", now=T0, batch_size=5),
            drain_once(settings, sessions, worker_id="b", now=T0, batch_size=5),
        )
        while sum(r.sent for r in reports) < N:
            reports.append(await drain_once(settings, sessions, worker_id="c", now=T0))
    assert len(smtp_server.messages) == N
    assert len({m.message_id for m in smtp_server.messages}) == N

    # Three scanners in threads on the day the first follow-ups fall due.
    day = dt.date(2025, 2, 24)
    results = []

    def scan() -> None:
        results.append(scan_once(sessions, settings, today=day, now=dt.datetime(2025, 2, 24, 17, tzinfo=UTC), batch_size=4))

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.queued for r in results) == N
    assert all(not r.errors for r in results), [r.errors for r in results]
    with sessions() as s:
        per_request = s.execute(
            select(Outbox.request_id, func.count()).where(Outbox.kind == "followup").group_by(Outbox.request_id)
        ).all()
    assert sorted(per_request) == [(rid, 1) for rid in sorted(ids)]
