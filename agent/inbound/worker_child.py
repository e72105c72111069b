"""The reading worker's own process: `python -m agent.inbound.worker_child IN_FD OUT_FD`.

It reads the rules once, caps its address space at what it holds at rest plus the memory budget, then answers
parse and understand requests one at a time. Requests and answers are length-prefixed pickles on two pipes
(never stdout: a stray print must not corrupt the channel). Only the daemon talks to it; nothing untrusted is
ever unpickled here except what the daemon itself pickled.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, BinaryIO

# The framing and the memory cap are shared with the document sandbox (agent.child_process).
from agent.child_process import cap_memory as _cap_memory
from agent.child_process import receive, send


class _Collect(logging.Handler):
    """The child's log records, sent back with each answer and logged by the daemon as its own."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.out_of_memory = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], MemoryError):
            self.out_of_memory = True  # understand() turns any exception into a review item; this one is the budget
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        records, self.records = self.records[:50], []
        return records


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    """Start-up (rules, budget), then one request at a time; exits after running out of memory (its heap may
    be damaged) or when the daemon closes the channel."""
    from agent.mail.parse import parse
    from agent.pipeline.understand import understand

    collect = _Collect()
    root = logging.getLogger()
    root.handlers[:] = [collect]
    root.setLevel(logging.INFO)
    rules, budget_bytes = receive(inbox)
    _cap_memory(budget_bytes)
    send(outbox, ("ready", None, []))
    corrections: Any = None
    last: Any = None
    while True:
        try:
            op, args = receive(inbox)
            if op == "parse":
                last = None
                last = parse(args[0], max_attachment_bytes=args[1])
                result: Any = last
            elif op == "understand":
                parsed, context, review_threshold, closing_threshold, fresh_corrections, use_corrections = args
                if fresh_corrections is not None:
                    corrections = fresh_corrections
                result = understand(
                    parsed if parsed is not None else last,
                    context,
                    rules,
                    review_threshold=review_threshold,
                    closing_threshold=closing_threshold,
                    corrections=corrections if use_corrections else None,
                )
            else:
                raise ValueError(f"unknown request {op!r}")
            if collect.out_of_memory:
                raise MemoryError("understanding ran out of memory")
            send(outbox, ("ok", result, collect.take()))
        except EOFError:
            return
        except MemoryError:
            last = result = None  # free what can be freed, say so, and exit: the daemon starts a fresh child
            try:
                send(outbox, ("memory", None, []))
            except Exception:  # noqa: BLE001 - the daemon sees the pipe close instead
                pass
            return
        except Exception as exc:  # noqa: BLE001 - the daemon raises it as the in-process call would
            try:
                send(outbox, ("error", exc, collect.take()))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text then
                send(outbox, ("error", RuntimeError(f"{type(exc).__name__}: {exc}"), []))


def main(argv: list[str]) -> int:
    sys.stdout = sys.stderr  # the channel is the two pipes; anything printed goes to the daemon's stderr
    with os.fdopen(int(argv[0]), "rb") as inbox, os.fdopen(int(argv[1]), "wb") as outbox:
        serve(inbox, outbox)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
