"""Parse + understand in a worker process held to a per-message time and memory budget.

A regular expression stuck in C code or a converter that eats gigabytes cannot be stopped from inside the
daemon; a child process can. One persistent child (agent.inbound.worker_child, a fresh interpreter: none of
the daemon's threads or connections are copied) gets the rules once and reads messages one at a time. Its
address space is capped at what it holds at rest plus the memory budget; a message that runs out of time is
stopped by killing the child, which is started again for the next message. Either way the caller gets
BudgetExceeded and quarantines the message.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, BinaryIO

from agent.config import LimitsSettings
from agent.inbound.reader import BudgetExceeded, InProcessReader, Reader
from agent.child_process import child_env, receive, send
from agent.child_process import readable as _readable
from agent.pipeline.correction_memory import CorrectionMemory
from agent.pipeline.stage_data import ParsedMessage, ThreadContext, Understanding

log = logging.getLogger(__name__)

# Starting a child (fork, unpickling the rules) is not the message's time; it has this long on its own.
START_SECONDS = 120.0
# A worker that failed to start is not tried again for this long (each try may take START_SECONDS).
RETRY_START_SECONDS = 300.0
# Verdicts remembered, so a chunk redone one by one does not read an over-budget message a second time.
_REMEMBERED = 256


class WorkerUnavailable(Exception):
    """The worker process could not be started; reading falls back to this process."""


# -- the parent ------------------------------------------------------------------------------------------


class BudgetWorker:
    """A Reader whose parse + understand of one message share `seconds` of time and `memory_mb` of memory."""

    def __init__(self, rules: Any, *, seconds: float, memory_mb: int) -> None:
        self.rules = rules
        self.seconds = seconds
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._answers: BinaryIO | None = None
        # What the running child already holds, so it is not sent again (reset when a child starts).
        self._child_parsed: ParsedMessage | None = None
        self._child_corrections: CorrectionMemory | None = None
        self._last_parsed: ParsedMessage | None = None
        self._left = 0.0  # of the current message's time budget; a child's start-up is not counted
        self._digest = ""
        self._verdicts: OrderedDict[str, str] = OrderedDict()
        self.starts = 0
        self.digest = ""
        self._retry_at = 0.0  # after a failed start, messages are read in-process until then

    # Reader ---------------------------------------------------------------------------------------------

    def parse(self, raw: bytes, *, max_attachment_bytes: int) -> ParsedMessage:
        self._digest = hashlib.sha256(raw).hexdigest()
        known = self._verdicts.get(self._digest)
        if known is not None:
            raise BudgetExceeded(known)
        self._left = self.seconds
        self._last_parsed = None
        parsed: ParsedMessage = self._call("parse", lambda: (raw, max_attachment_bytes))
        self._child_parsed = self._last_parsed = parsed
        return parsed

    def understand(
        self,
        parsed: ParsedMessage,
        context: ThreadContext,
        rules: Any,
        *,
        review_threshold: float,
        closing_threshold: float,
        corrections: CorrectionMemory | None,
    ) -> Understanding:
        if rules is not self.rules:
            raise ValueError("this worker holds other rules; ask reader_for() for a worker of these")
        if parsed is not self._last_parsed:  # not the message just parsed: a budget of its own
            self._left = self.seconds

        def request() -> tuple[Any, ...]:
            held = parsed is self._child_parsed
            fresh = corrections if corrections is not None and corrections is not self._child_corrections else None
            return (None if held else parsed, context, review_threshold, closing_threshold, fresh, corrections is not None)

        result: Understanding = self._call("understand", request)
        if corrections is not None:
            self._child_corrections = corrections
        return result

    # plumbing -------------------------------------------------------------------------------------------

    def _call(self, op: str, request: Callable[[], tuple[Any, ...]]) -> Any:
        """Send one request (built for the child that gets it) and wait for the answer within what is left."""
        with self._lock:
            child = self._ensure()
            try:
                send(child.stdin, (op, request()))  # type: ignore[arg-type]
            except (BrokenPipeError, ConnectionError, OSError):
                child = self._restart()  # the child died between messages: a new one gets this request
                send(child.stdin, (op, request()))  # type: ignore[arg-type]
            started = time.monotonic()
            ready = self._left > 0 and _readable(self._answers, self._left)  # type: ignore[arg-type]
            self._left -= time.monotonic() - started
            if not ready:
                self._stop()
                raise self._refuse(f"exceeded time budget ({self.seconds:g} s) while reading the message")
            try:
                kind, value, records = receive(self._answers)  # type: ignore[arg-type]
            except (EOFError, OSError, pickle.UnpicklingError):
                code = self._stop()
                raise self._refuse(f"the reading worker died (exit code {code}) while reading the message") from None
            if kind == "memory":
                self._stop()
        for record in records:
            logging.getLogger(record.name).handle(record)
        if kind == "ok":
            return value
        if kind == "memory":
            raise self._refuse(f"exceeded memory budget ({self.memory_mb} MB) while reading the message")
        raise value

    def _refuse(self, reason: str) -> BudgetExceeded:
        self._verdicts[self._digest] = reason
        while len(self._verdicts) > _REMEMBERED:
            self._verdicts.popitem(last=False)
        log.warning("%s", reason)
        return BudgetExceeded(reason)

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        return self._restart()

    def _restart(self) -> subprocess.Popen[bytes]:
        """A fresh child with the rules loaded; its start-up is not counted against any message."""
        self._stop()
        if time.monotonic() < self._retry_at:
            raise WorkerUnavailable("the reading worker failed to start a short while ago")
        try:
            return self._start()
        except WorkerUnavailable:
            self._retry_at = time.monotonic() + RETRY_START_SECONDS
            raise

    def _start(self) -> subprocess.Popen[bytes]:
        self._child_parsed = None
        self._child_corrections = None
        answers_read, answers_write = os.pipe()
        env = child_env()  # the child imports the very code this process runs, wherever it was installed from
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "agent.inbound.worker_child", "0", str(answers_write)],
                stdin=subprocess.PIPE,
                pass_fds=(answers_write,),
                env=env,
            )
        except OSError as exc:
            os.close(answers_read)
            os.close(answers_write)
            raise WorkerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        os.close(answers_write)
        answers = os.fdopen(answers_read, "rb")
        try:
            send(process.stdin, (self.rules, self.memory_mb * 1024 * 1024))  # type: ignore[arg-type]
            if not _readable(answers, START_SECONDS):
                raise WorkerUnavailable(f"the reading worker did not start within {START_SECONDS:g} s")
            receive(answers)
        except (OSError, EOFError, pickle.PicklingError, TypeError, AttributeError) as exc:
            process.kill()
            process.wait()
            answers.close()
            raise WorkerUnavailable(f"the reading worker did not start ({type(exc).__name__}: {exc})") from exc
        except WorkerUnavailable:
            process.kill()
            process.wait()
            answers.close()
            raise
        self._process, self._answers = process, answers
        self.starts += 1
        return process

    def _stop(self) -> int | None:
        """Kill the child (if any) and wait for it; returns its exit code."""
        process, answers = self._process, self._answers
        self._process = self._answers = None
        if answers is not None:
            answers.close()
        if process is None:
            return None
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        if process.poll() is None:
            process.kill()
        return process.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()


# -- one worker per daemon -------------------------------------------------------------------------------

_current: BudgetWorker | None = None
_guard = threading.Lock()
_last_digest: tuple[Any, str] | None = None  # (rules object, digest of its pickle): a pass reuses it


def _rules_digest(rules: Any) -> str | None:
    """What identifies a rule set across reloads (equal rules keep the running child); None: not picklable."""
    global _last_digest
    if _last_digest is not None and _last_digest[0] is rules:
        return _last_digest[1]
    try:
        digest = hashlib.sha256(pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    except Exception as exc:  # noqa: BLE001 - a rule set the worker cannot receive is read in this process
        log.error("rules cannot be sent to the reading worker (%s); reading without a budget", exc)
        return None
    _last_digest = (rules, digest)
    return digest


def reader_for(limits: LimitsSettings, rules: Any) -> Reader:
    """The process's worker for these rules and budget (other rules replace it); in-process when disabled."""
    global _current
    if not limits.worker or rules is None:
        return InProcessReader()
    with _guard:
        digest = _rules_digest(rules)
        if digest is None:
            return InProcessReader()
        worker = _current
        if worker is not None and (
            worker.digest != digest or worker.seconds != limits.message_seconds or worker.memory_mb != limits.message_memory_mb
        ):
            worker.close()
            worker = None
        if worker is None:
            worker = BudgetWorker(rules, seconds=limits.message_seconds, memory_mb=limits.message_memory_mb)
            worker.digest = digest
            _current = worker
        worker.rules = rules  # an equal rule set (same pickle): the child already holds it
        return _FallbackReader(worker)


class _FallbackReader:
    """The worker, or this process when the worker cannot be started at all (reading must go on)."""

    def __init__(self, worker: BudgetWorker) -> None:
        self.worker = worker

    def parse(self, raw: bytes, *, max_attachment_bytes: int) -> ParsedMessage:
        try:
            return self.worker.parse(raw, max_attachment_bytes=max_attachment_bytes)
        except WorkerUnavailable as exc:
            log.error("reading in the daemon itself, without a budget: %s", exc)
            return InProcessReader().parse(raw, max_attachment_bytes=max_attachment_bytes)

    def understand(
        self,
        parsed: ParsedMessage,
        context: ThreadContext,
        rules: Any,
        *,
        review_threshold: float,
        closing_threshold: float,
        corrections: CorrectionMemory | None,
    ) -> Understanding:
        try:
            return self.worker.understand(parsed, context, rules, review_threshold=review_threshold, closing_threshold=closing_threshold,
                corrections=corrections)
        except WorkerUnavailable as exc:
            log.error("reading in the daemon itself, without a budget: %s", exc)
            return InProcessReader().understand(
                parsed, context, rules, review_threshold=review_threshold, closing_threshold=closing_threshold,
                corrections=corrections
            )


@atexit.register
def _close_current() -> None:
    if _current is not None:
        _current.close()
