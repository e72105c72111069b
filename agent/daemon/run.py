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

from agent.config import Settings
from agent.daemon.idle import IdleWatcher
from agent.daemon.jobs import Clock, Jobs, utcnow
from agent.daemon.ruleset import RuleSet
from agent.daemon.scheduler import build_scheduler, next_run_times, run_soon
from agent.db.session import make_engine, make_session_factory
from agent.operators.corrections import load_training_examples

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
    sessions = make_session_factory(engine)
    rules = RuleSet(settings.rules_path, examples=lambda: load_training_examples(sessions))
    rules.load_initial()
    return Jobs(settings, engine, sessions, rules, clock=clock, worker_id=worker_id)


async def run_once(jobs: Jobs) -> int:
    """One pass in dependency order: read mail, queue what is due, send it. The digest keeps its own schedule."""
    jobs.publish_daemon("once")
    await jobs.poll()
    await jobs.ocr()
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
