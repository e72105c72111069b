"""Work in flight: which jobs are running, so shutdown can wait for them, and an inbox that stops between batches."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any


class StoppableInbox:
    """The inbox as poll_once sees it, except that no new batch starts once the daemon is stopping.

    So SIGTERM waits for the batch in hand (archived, recorded and processed together), not for a
    whole backlog; the rest is fetched after the restart, from the checkpoint.
    """

    def __init__(self, inbox: Any, stopping: threading.Event) -> None:
        self._inbox = inbox
        self._stopping = stopping

    def batches(self, checkpoint: Any) -> Iterator[Any]:
        for batch in self._inbox.batches(checkpoint):
            yield batch
            if self._stopping.is_set():
                return

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inbox, name)


class Tracker:
    """Counts jobs in flight so shutdown can wait for them: APScheduler's asyncio executor would cancel them."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self, job: str) -> None:
        self._running[job] = self._running.get(job, 0) + 1
        self._idle.clear()

    def leave(self, job: str) -> None:
        self._running[job] -= 1
        if not any(self._running.values()):
            self._idle.set()

    @property
    def busy(self) -> list[str]:
        return [job for job, n in self._running.items() if n]

    async def wait_idle(self) -> None:
        await self._idle.wait()
