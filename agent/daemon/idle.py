"""IMAP IDLE in a worker thread: mail arriving brings the scheduled poll forward; the poll itself does the fetching."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from agent.config import Settings
from agent.daemon.jobs import stage

log = logging.getLogger("agent.daemon")


class IdleWatcher:
    """A thread holding IMAP IDLE on its own connection; mail arriving sets the poll-now event.

    It never fetches: the scheduled poll does, with the lock and the checkpoint, so IDLE only
    makes it sooner.
    """

    def __init__(self, settings: Settings, loop: asyncio.AbstractEventLoop, poll_now: asyncio.Event) -> None:
        self._settings = settings
        self._loop = loop
        self._poll_now = poll_now
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="imap-idle", daemon=True)

    @classmethod
    def maybe_start(cls, settings: Settings, loop: asyncio.AbstractEventLoop, poll_now: asyncio.Event) -> "IdleWatcher | None":
        if settings.inbox.backend != "imap" or not settings.inbox.imap.idle:
            return None
        if stage("agent.mail.inbox", "open_inbox") is None:
            return None
        watcher = cls(settings, loop, poll_now)
        watcher._thread.start()
        return watcher

    def stop(self) -> None:
        self._stopping.set()

    def _main(self) -> None:
        open_inbox = stage("agent.mail.inbox", "open_inbox")
        if open_inbox is None:  # maybe_start found it; only a stage removed since would get here
            return
        backoff = 1.0
        while not self._stopping.is_set():
            inbox: Any = None
            try:
                inbox = open_inbox(self._settings)
                backoff = 1.0
                wait = getattr(inbox, "wait_for_mail", None) or inbox.wait
                while not self._stopping.is_set():
                    # Short waits so a stop is noticed within seconds; the inbox renews IDLE itself.
                    if wait(5.0):
                        self._loop.call_soon_threadsafe(self._poll_now.set)
                        # One wake-up per burst of mail is enough; the poll fetches everything new.
                        self._stopping.wait(1.0)
            except Exception as exc:  # noqa: BLE001 - the server went away; IDLE comes back when it does
                log.warning("IDLE connection failed: %s; retrying in %.0fs", exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            finally:
                if inbox is not None and hasattr(inbox, "close"):
                    try:
                        inbox.close()
                    except Exception:  # noqa: BLE001
                        pass
