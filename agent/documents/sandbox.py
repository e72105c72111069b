"""read_here() in a child process with an address-space cap, a CPU cap and a wall clock; killed when over.

One fresh child per file (`python -m agent.documents.sandbox_child`): a file that crashed PDFium or ran out
of memory leaves nothing behind in a long-lived worker. Starting an interpreter and importing PDFium costs a
few hundred milliseconds, so one spare child is started ahead and waits, ready, for the next file; only
the first file after a pause (or a burst) waits for a start. The child runs in a session of its own, so a kill
takes Tesseract (its grandchild) with it. The answer comes back as JSON, never a pickle, since the child is
the process that touched the hostile file.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

from agent.child_process import child_env, readable, receive_bytes, send
from agent.documents.reading import DocumentReading, ReadingLimits, failed
from agent.documents.sandbox_child import OUT_OF_MEMORY
from agent.documents.sniff import sniff

# The child's module: `python -m CHILD_MODULE OUT_FD` (tests point it at a hungrier reader).
CHILD_MODULE = "agent.documents.sandbox_child"
# Keep a started child waiting for the next file (off: every file waits for its child to start).
KEEP_SPARE = True
# The interpreter's start and the imports are not the file's time; they get this long on their own.
START_SECONDS = 30.0
# A child that ends within this much of its CPU limit is reported as out of time, not as a crash.
_SIGXCPU_CODES = {-signal.SIGXCPU, -signal.SIGKILL}


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    answers: BinaryIO
    module: str


_spare: _Child | None = None
_spare_lock = threading.Lock()


def wall_seconds(limits: ReadingLimits, *, ocr: bool) -> float:
    """The most one file may take once the child is ready: reading, plus OCR when it runs now."""
    return limits.seconds + (limits.ocr_seconds if ocr else 0.0)


def read_in_child(
    payload: bytes, *, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits
) -> DocumentReading:
    kind = sniff(payload, filename=filename, declared=declared_type)
    try:
        child = _take_child()
    except Exception as exc:  # noqa: BLE001 - the sandbox itself failing must not stop the message
        return failed(kind, f"sandbox: {type(exc).__name__}: {exc}")
    try:
        return _converse(child, payload, kind, filename, declared_type, ocr, limits)
    except Exception as exc:  # noqa: BLE001
        return failed(kind, f"sandbox: {type(exc).__name__}: {exc}")
    finally:
        _kill(child)
        if KEEP_SPARE:
            _start_spare()


def close() -> None:
    """Stop the spare child (at exit, or when a test wants no process left)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None:
        _kill(spare)


atexit.register(close)


def _take_child() -> _Child:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare.module == CHILD_MODULE and spare.process.poll() is None:
        return spare
    if spare is not None:
        _kill(spare)
    return _start()


def _start_spare() -> None:
    global _spare
    try:
        child = _start()
    except OSError:
        return  # the next file starts its own and reports the failure
    with _spare_lock:
        old, _spare = _spare, child
    if old is not None:
        _kill(old)


def _start() -> _Child:
    answers_read, answers_write = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", CHILD_MODULE, str(answers_write)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(answers_write,),
            env=child_env(),
            start_new_session=True,
        )
    except OSError:
        os.close(answers_read)
        raise
    finally:
        os.close(answers_write)
    return _Child(process, os.fdopen(answers_read, "rb"), CHILD_MODULE)


def _converse(
    child: _Child, payload: bytes, kind: str, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits
) -> DocumentReading:
    process, answers = child.process, child.answers
    assert process.stdin is not None
    if not readable(answers, START_SECONDS) or receive_bytes(answers, max_bytes=64) != b"ready":
        return failed(kind, f"sandbox: the reading child did not start within {START_SECONDS:g} s")
    seconds = wall_seconds(limits, ocr=ocr)
    try:
        send(process.stdin, (payload, filename, declared_type, ocr, limits))  # type: ignore[arg-type]
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the child died on arrival; its exit says why below
    started = time.monotonic()
    if not readable(answers, seconds):
        return failed(kind, f"timeout: reading took over {seconds:g} s")
    try:
        answer = json.loads(receive_bytes(answers, max_bytes=limits.max_text_chars * 4 + 4096))
    except (EOFError, ValueError, OSError):
        code = process.wait(timeout=5)
        return failed(kind, _death(code, time.monotonic() - started, seconds, limits))
    return DocumentReading(
        sniffed_type=kind,
        method=str(answer["method"]),
        text=str(answer["text"])[: limits.max_text_chars],
        pages=None if answer["pages"] is None else int(answer["pages"]),
        error=str(answer["error"]),
    )


def _death(code: int, took: float, seconds: float, limits: ReadingLimits) -> str:
    if code == -signal.SIGXCPU or (code in _SIGXCPU_CODES and took >= seconds * 0.8):
        return f"timeout: reading used over {seconds:g} s of CPU"
    if code == OUT_OF_MEMORY:
        return f"memory: the file needs more than {limits.memory_mb} MB"
    if code in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        return f"memory or crash: the reader died (signal {-code}) within {limits.memory_mb} MB"
    return f"crash: the reader exited with code {code}"


def _kill(child: _Child) -> None:
    """The child and anything it started (Tesseract) are gone when this returns."""
    process = child.process
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the child and any grandchild still in its session
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdin, child.answers):
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass
