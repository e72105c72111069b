"""The bodies of the scheduled jobs: each calls one stage's entry point, then publishes what happened."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import inspect
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.daemon import status
from agent.daemon.inflight import StoppableInbox, Tracker
from agent.daemon.locks import PollerLock, poller_lock
from agent.daemon.metrics import write_metrics_file
from agent.daemon.ruleset import RuleSet

log = logging.getLogger("agent.daemon")

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def stage(module: str, name: str) -> Any | None:
    """Another engineer's entry point, or None while that stage is not installed (the job then skips)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    except AttributeError:
        return None


def report_dict(report: Any) -> dict[str, Any]:
    """Whatever a stage returned, as a JSON-friendly dict for status and logs."""
    if report is None:
        return {}
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return {k: v for k, v in dataclasses.asdict(report).items() if _plain(v)}
    if isinstance(report, dict):
        return {k: v for k, v in report.items() if _plain(v)}
    if hasattr(report, "id"):
        return {"id": getattr(report, "id")}
    return {"result": str(report)}


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, type(None), list, tuple, dict))


class Jobs:
    """One instance per daemon; holds the inbox connection, the poller lock and the rules between runs."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        sessions: sessionmaker[Session],
        rules: RuleSet,
        *,
        clock: Clock = utcnow,
        worker_id: str | None = None,
        lock: PollerLock | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.rules = rules
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.lock = lock or poller_lock(engine, settings.inbox.account)
        self.tracker = Tracker()
        self.tz = ZoneInfo(settings.schedule.timezone)
        self._inbox: Any = None
        self._missing_logged: set[str] = set()
        # Set by the runner: brings a job forward (e.g. send at once what a scan just queued).
        self.nudge: Callable[[str], None] = lambda job_id: None
        self.next_times: Callable[[], dict[str, str | None]] = dict
        # Set when TERM/INT arrives: jobs finish the unit in hand and start no new one.
        self.stopping = threading.Event()
        self._running_ids: set[str] = set()
        self._again: set[str] = set()
        self.counters: dict[str, int] = {"polls": 0, "sends": 0, "scans": 0, "digests": 0, "ocrs": 0, "errors": 0, "links": 0}

    # -- the four jobs ------------------------------------------------------------------------

    async def poll(self) -> dict[str, Any] | None:
        result = await self._run("poll", self._poll_sync, in_thread=True, job_id="poll")
        if result and result.get("awaiting_ocr"):
            self.request("ocr")
        return result

    async def ocr(self) -> dict[str, Any] | None:
        result = await self._run("ocr", self._ocr_sync, in_thread=True, job_id="ocr")
        if result and result.get("left") and not self.stopping.is_set():
            self.request("ocr")  # more scans waiting: the next few, right after this run
        return result

    async def outbox(self) -> dict[str, Any] | None:
        return await self._run("send", self._drain, in_thread=False, job_id="outbox")

    def request(self, job_id: str) -> None:
        """Run a job as soon as possible; asked while it runs, it runs once more right after (never lost, never doubled)."""
        if job_id in self._running_ids:
            self._again.add(job_id)
        else:
            self.nudge(job_id)

    async def deadlines(self) -> dict[str, Any] | None:
        result = await self._run("scan", self._scan_sync, in_thread=True, job_id="deadlines")
        if result and _queued_something(result):
            self.request("outbox")
        return result

    async def digest(self) -> dict[str, Any] | None:
        result = await self._run("digest", self._digest_sync, in_thread=True, job_id="digest")
        if result and result.get("id"):
            self.request("outbox")
        return result

    async def links(self) -> dict[str, Any] | None:
        return await self._run("links", self._links_sync, in_thread=True, job_id="links")

    def as_mapping(self) -> dict[str, Callable[[], Any]]:
        return {"poll": self.poll, "outbox": self.outbox, "deadlines": self.deadlines, "digest": self.digest,
                "ocr": self.ocr, "links": self.links}

    # -- stage calls -------------------------------------------------------------------------

    def _poll_sync(self) -> dict[str, Any] | None:
        poll_once = stage("agent.inbound.poll", "poll_once")
        open_inbox = stage("agent.mail.inbox", "open_inbox")
        if poll_once is None or open_inbox is None:
            return self._missing("poll", "agent.inbound.poll / agent.mail.inbox")
        if not self.lock.acquire():
            return {"skipped": "another daemon holds the inbox lock"}
        if self._inbox is None:
            self._inbox = open_inbox(self.settings)
        try:
            inbox = StoppableInbox(self._inbox, self.stopping)
            report = poll_once(self.settings, self.sessions, inbox, rules=self.rules.current, now=self.clock)
        except BaseException:
            # A broken connection is reopened next tick (with the inbox's own backoff).
            self.close_inbox()
            raise
        return report_dict(report)

    async def _drain(self) -> dict[str, Any] | None:
        drain_once = stage("agent.outbox.send", "drain_once")
        if drain_once is None:
            return self._missing("send", "agent.outbox.send")
        report = await drain_once(self.settings, self.sessions, worker_id=self.worker_id, now=self.clock())
        return report_dict(report)

    def _scan_sync(self) -> dict[str, Any] | None:
        scan_once = stage("agent.followups.scan", "scan_once")
        if scan_once is None:
            return self._missing("scan", "agent.followups.scan")
        today = self.clock().astimezone(self.tz).date()
        return report_dict(scan_once(self.sessions, self.settings, today=today, now=self.clock()))

    def _ocr_sync(self) -> dict[str, Any] | None:
        run_ocr = stage("agent.inbound.ocr_job", "run_ocr")
        if run_ocr is None:
            return self._missing("ocr", "agent.inbound.ocr_job")
        if not self.lock.held:
            # Only the daemon that reads the inbox reads its scans (one OCR of each file, never two at once).
            return {"skipped": "this daemon does not hold the inbox lock"}
        return report_dict(run_ocr(self.settings, self.sessions, rules=self.rules.current, now=self.clock, stopping=self.stopping))

    def _digest_sync(self) -> dict[str, Any] | None:
        queue_weekly_digest = stage("agent.digest.send", "queue_weekly_digest")
        if queue_weekly_digest is None:
            return self._missing("digest", "agent.digest.send")
        row = queue_weekly_digest(self.sessions, self.settings, self.clock())
        return {"id": row.id, "queued": True} if row is not None else {"queued": False}

    def _links_sync(self) -> dict[str, Any] | None:
        harvest_once = stage("agent.links.harvest", "harvest_once")
        if harvest_once is None:
            return self._missing("links", "agent.links.harvest")
        return report_dict(harvest_once(self.settings, self.sessions, now=self.clock))

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, name: str, func: Callable[[], Any], *, in_thread: bool, job_id: str) -> dict[str, Any] | None:
        self.tracker.enter(name)
        self._running_ids.add(job_id)
        started = time.monotonic()
        try:
            try:
                if in_thread:
                    result = await asyncio.to_thread(func)
                else:
                    result = func()
                    if inspect.isawaitable(result):
                        result = await result
            except Exception as exc:  # noqa: BLE001 - a failing job is logged and retried next tick, never fatal
                self.counters["errors"] += 1
                if isinstance(exc, (ConnectionError, TimeoutError)):
                    # A server restarting or a network blip: expected now and then, retried on the next tick.
                    log.warning("%s failed, will retry: %s", name, exc, extra={"job": name})
                else:
                    log.error("%s failed: %s", name, exc, exc_info=True, extra={"job": name})
                await asyncio.to_thread(self._publish, name, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, exc)
                return None
            if result is None:
                return None
            elapsed = round(time.monotonic() - started, 3)
            self.counters[{"poll": "polls", "send": "sends", "scan": "scans", "digest": "digests", "ocr": "ocrs", "links": "links"}[name]] += 1
            log.info("%s done", name, extra={"job": name, "seconds": elapsed, **_prefixed(result)})
            await asyncio.to_thread(self._publish, name, {"ok": True, "seconds": elapsed, **result}, None)
            return dict(result)
        finally:
            self._running_ids.discard(job_id)
            self.tracker.leave(name)
            if job_id in self._again:
                self._again.discard(job_id)
                # Later, not now: until this coroutine returns the scheduler still counts the run as active
                # and would skip a run brought forward to "now" (max_instances=1).
                asyncio.get_running_loop().call_later(0.05, self.nudge, job_id)

    def _publish(self, name: str, value: dict[str, Any], exc: BaseException | None) -> None:
        """Status is best effort: a failure to write it is logged, never allowed to fail the job."""
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                status.publish(session, name, {"at": now.isoformat(), "worker": self.worker_id, **value})
                if exc is not None:
                    status.record_error(session, name, f"{type(exc).__name__}: {exc}", now=now)
                status.publish(session, "queues", status.queue_sizes(session))
                status.publish(session, "next_jobs", self.next_times())
            self.write_status_file()
        except Exception as err:  # noqa: BLE001
            log.warning("could not publish status: %s", err, extra={"job": name})

    def write_status_file(self, extra: dict[str, Any] | None = None) -> None:
        with self.sessions() as session:
            snap = status.snapshot(session)
        snap["next_jobs"] = self.next_times()
        snap["process"] = {"worker": self.worker_id, "pid": os.getpid(), "counters": dict(self.counters)}
        status.write_status_file(self.settings.daemon.status_file, {**snap, **(extra or {})})
        if self.settings.daemon.metrics_file is not None:
            write_metrics_file(self.settings.daemon.metrics_file, {**snap, **(extra or {})}, utcnow())

    def publish_daemon(self, state: str, **fields: Any) -> None:
        try:
            with self.sessions.begin() as session:
                status.publish(
                    session,
                    "daemon",
                    {"state": state, "worker": self.worker_id, "pid": os.getpid(), "at": utcnow().isoformat(), **fields},
                )
            self.write_status_file()
        except Exception as err:  # noqa: BLE001
            log.warning("could not publish daemon state: %s", err)

    def _missing(self, name: str, what: str) -> dict[str, Any] | None:
        if name not in self._missing_logged:
            self._missing_logged.add(name)
            log.warning("%s skipped: %s is not installed", name, what, extra={"job": name})
        return None

    def close_inbox(self) -> None:
        inbox, self._inbox = self._inbox, None
        if inbox is not None and hasattr(inbox, "close"):
            try:
                inbox.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is dropped either way
                pass

    def close(self) -> None:
        self.close_inbox()
        self.lock.release()


def _queued_something(result: dict[str, Any]) -> bool:
    return any(isinstance(v, int) and v > 0 for k, v in result.items() if "queued" in k or "followup" in k)


def _prefixed(result: dict[str, Any]) -> dict[str, Any]:
    # Log fields must not collide with LogRecord attributes (e.g. "msg", "name").
    return {f"r_{k}": v for k, v in result.items() if isinstance(v, (int, float, str, bool))}
