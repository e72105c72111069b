"""read_here() in a child process with an address-space cap, a CPU cap and a wall clock; killed when over.

One short-lived child per file (`python -m agent.documents.sandbox_child`): a file that crashed PDFium or ran
out of memory leaves nothing behind in a long-lived worker. The child runs in a session of its own, so a kill
takes Tesseract (its grandchild) with it. The answer comes back as JSON, never a pickle, since the child is the
process that touched the hostile file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import BinaryIO

from agent.child_process import child_env, readable, receive_bytes, send
from agent.documents.reading import DocumentReading, ReadingLimits, failed
from agent.documents.sandbox_child import OUT_OF_MEMORY
from agent.documents.sniff import sniff

# The child's module: `python -m CHILD_MODULE OUT_FD` (tests point it at a hungrier reader).
CHILD_MODULE = "agent.documents.sandbox_child"
# The interpreter's start and the imports are not the file's time; they get this long on their own.
START_SECONDS = 30.0
# A child that ends within this much of its CPU limit is reported as out of time, not as a crash.
_SIGXCPU_CODES = {-signal.SIGXCPU, -signal.SIGKILL}


def wall_seconds(limits: ReadingLimits, *, ocr: bool) -> float:
    """The most one file may take once the child is ready: reading, plus OCR when it runs now."""
    return limits.seconds + (limits.ocr_seconds if ocr else 0.0)


def read_in_child(
    payload: bytes, *, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits
) -> DocumentReading:
    kind = sniff(payload, filename=filename, declared=declared_type)
    try:
        return _run(payload, kind, filename=filename, declared_type=declared_type, ocr=ocr, limits=limits)
    except Exception as exc:  # noqa: BLE001 - the sandbox itself failing must not stop the message
        return failed(kind, f"sandbox: {type(exc).__name__}: {exc}")


def _run(
    payload: bytes, kind: str, *, filename: str, declared_type: str, ocr: bool, limits: ReadingLimits
) -> DocumentReading:
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
    with os.fdopen(answers_read, "rb") as answers:
        try:
            return _converse(process, answers, payload, kind, filename, declared_type, ocr, limits)
        finally:
            _kill(process)


def _converse(
    process: subprocess.Popen[bytes],
    answers: BinaryIO,
    payload: bytes,
    kind: str,
    filename: str,
    declared_type: str,
    ocr: bool,
    limits: ReadingLimits,
) -> DocumentReading:
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


def _kill(process: subprocess.Popen[bytes]) -> None:
    """The child and anything it started (Tesseract) are gone when this returns."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # a grandchild that outlived its parent
    except (ProcessLookupError, PermissionError):
        pass
    if process.stdin is not None and not process.stdin.closed:
        try:
            process.stdin.close()
        except OSError:
            pass
