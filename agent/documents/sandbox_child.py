"""The sandbox's child: `python -m agent.documents.sandbox_child OUT_FD`, one file on stdin, one answer on OUT_FD.

It imports only the reader it needs (lazily, by the file's type), caps itself before it touches the file,
and answers in JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from agent.child_process import cap_cpu, cap_memory, receive, send_bytes


def main(argv: list[str]) -> int:
    sys.stdout = sys.stderr  # the channel is the answer pipe; anything printed goes to stderr
    with os.fdopen(int(argv[0]), "wb") as answers:
        send_bytes(answers, b"ready")
        payload, filename, declared_type, ocr, limits = receive(sys.stdin.buffer)
        from agent.documents.reading import read_here

        cap_cpu(limits.seconds + (limits.ocr_seconds if ocr else 0.0) + 1.0)
        cap_memory(limits.memory_mb * 1024 * 1024)
        reading = read_here(payload, filename=filename, declared_type=declared_type, ocr=ocr, limits=limits)
        send_bytes(answers, json.dumps(dataclasses.asdict(reading)).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
