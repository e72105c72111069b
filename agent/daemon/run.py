"""`agent run`: one asyncio process that ticks the jobs, reacts to signals and stops cleanly.

Signal handlers only set events; this loop does the work. TERM/INT: stop starting jobs, let the
one in hand finish, shut the scheduler down, exit 0. HUP: reload rules/ (validate, then swap; the
old set stays on error). USR1: poll now. With an IMAP inbox and `idle = true`, a worker thread
holds IDLE on its own connection and brings the poll forward when mail arrives.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from agent.config import Settings
from agent.daemon.jobs import Clock, Jobs, stage, utcnow
from agent.daemon.ruleset import RuleSet
from agent.daemon.scheduler import build_scheduler, next_run_times, run_soon
from agent.db.session import make_engine, make_session_factory

log = logging.getLogger("agent.daemon")

EXIT_OK = 0


class Signals:
    """The events a signal may set; nothing else happens inside a handler."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.reload = asyncio.Event()
        self.poll_now = asyncio.Event()
        self.stop_signal: str | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.reload.set)
        loop.add_signal_handler(signal.SIGUSR1, self.poll_now.set)

    def _stop(self, name: str) -> None:
        self.stop_signal = self.stop_signal or name
        self.stop.set()

    @staticmethod
    def uninstall(loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
            loop.remove_signal_handler(sig)


def build_jobs(settings: Settings, *, clock: Clock = utcnow, worker_id: str | None = None) -> Jobs:
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    rules = RuleSet(settings.rules_path)
    rules.load_initial()
    return Jobs(settings, engine, make_session_factory(engine), rules, clock=clock, worker_id=worker_id)


async def run_once(jobs: Jobs) -> int:
    """One pass in dependency order: read mail, queue what is due, send it. The digest keeps its own schedule."""
    jobs.publish_daemon("once")
    await jobs.poll()
    await jobs.deadlines()
    await jobs.outbox()
    jobs.close()
    jobs.publish_daemon("stopped")
    return EXIT_OK if not jobs.counters["errors"] else 1


async def serve(jobs: Jobs, signals: Signals | None = None) -> int:
    """Run until TERM/INT; returns the exit code."""
    loop = asyncio.get_running_loop()
    signals = signals or Signals()
    signals.install(loop)
    scheduler = build_scheduler(jobs.settings.schedule, jobs.as_mapping())
    jobs.nudge = lambda job_id: run_soon(scheduler, job_id)
    jobs.next_times = lambda: next_run_times(scheduler) if scheduler.running else {}
    scheduler.start()
    watcher = IdleWatcher.maybe_start(jobs.settings, loop, signals.poll_now)
    jobs.publish_daemon("running", rules_generation=jobs.rules.generation)
    log.info("daemon started", extra={"worker": jobs.worker_id, "database": jobs.engine.dialect.name})
    try:
        while not signals.stop.is_set():
            await _wait_any(signals.stop, signals.reload, signals.poll_now)
            if signals.reload.is_set():
                signals.reload.clear()
                await _reload(jobs)
            if signals.poll_now.is_set() and not signals.stop.is_set():
                signals.poll_now.clear()
                log.info("poll requested", extra={"job": "poll"})
                jobs.request("poll")
        log.info("stopping: finishing the work in hand", extra={"signal": signals.stop_signal, "busy": jobs.tracker.busy})
        # Pause first so no new run starts, then wait for runs in flight: the asyncio executor would cancel them.
        jobs.stopping.set()
        scheduler.pause()
        await jobs.tracker.wait_idle()
        scheduler.shutdown(wait=True)
        await asyncio.sleep(0)  # the scheduler's own shutdown is queued on the loop
    finally:
        if watcher is not None:
            watcher.stop()
        Signals.uninstall(loop)
        await asyncio.to_thread(jobs.close)
        jobs.next_times = dict
        await asyncio.to_thread(jobs.publish_daemon, "stopped", signal=signals.stop_signal)
    log.info("daemon stopped", extra={"signal": signals.stop_signal})
    return EXIT_OK


async def _reload(jobs: Jobs) -> None:
    ok, message = await asyncio.to_thread(jobs.rules.reload)
    if ok:
        log.info(message, extra={"rules_generation": jobs.rules.generation})
    else:
        log.error("rules not reloaded, keeping the previous set: %s", message, extra={"rules_generation": jobs.rules.generation})
    await asyncio.to_thread(
        jobs.publish_daemon, "running", rules_generation=jobs.rules.generation, last_reload={"ok": ok, "message": message}
    )


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


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
