"""The sandbox's child: `python -m agent.documents.sandbox_child OUT_FD`, one file on stdin, one answer on OUT_FD.

It loads the PDF reader before it says "ready" (it usually waits as the sandbox's spare, so that costs no
file any time); other readers are imported when a file of their type comes. It caps itself before it touches
the file, and answers in JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.child_process import cap_cpu, cap_memory, receive, send_bytes

if TYPE_CHECKING:
    from agent.documents.reading import DocumentReading, ReadingLimits

# Exit status of a child that ran out of memory and could not even say so.
OUT_OF_MEMORY = 3


def apply_limits(limits: ReadingLimits, *, ocr: bool) -> None:
    """CPU a little over the wall budget (the parent's clock is the real one), memory on top of what is held."""
    cap_cpu(limits.seconds + (limits.ocr_seconds if ocr else 0.0) + 1.0)
    cap_memory(limits.memory_mb * 1024 * 1024)


def main(argv: list[str], reader: Callable[..., DocumentReading] | None = None) -> int:
    """`reader` is read_here; tests pass a hungrier one to see the limits hold."""
    sys.stdout = sys.stderr  # the channel is the answer pipe; anything printed goes to stderr
    if reader is None:
        # Loaded before "ready", while the child waits as the spare: PDF is what agencies send most.
        import agent.documents.pdf_reading  # noqa: F401
        from agent.documents.reading import read_here

        reader = read_here
    with os.fdopen(int(argv[0]), "wb") as answers:
        send_bytes(answers, b"ready")
        payload, filename, declared_type, ocr, limits = receive(sys.stdin.buffer)
        apply_limits(limits, ocr=ocr)
        try:
            answer: dict[str, Any] = dataclasses.asdict(
                reader(payload, filename=filename, declared_type=declared_type, ocr=ocr, limits=limits)
            )
        except MemoryError:
            del payload  # room to build the answer
            answer = {"sniffed_type": "", "method": "failed", "text": "", "pages": None,
                      "error": f"memory: the file needs more than {limits.memory_mb} MB"}
        try:
            send_bytes(answers, json.dumps(answer).encode("utf-8"))
        except MemoryError:
            return OUT_OF_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
