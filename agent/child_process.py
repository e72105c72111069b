"""What a child process held to limits needs on both sides: framed pipes, its memory cap, its environment.

Shared by the reading worker (agent.inbound.worker) and the document sandbox (agent.documents.sandbox), so
both contain hostile input the same way: a fresh interpreter (no copied threads or connections), answers on a
pipe of their own (a stray print cannot corrupt it), address space capped at what it holds at rest plus a budget.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
from pathlib import Path
from typing import Any, BinaryIO

_LENGTH = struct.Struct("!Q")


def send(stream: BinaryIO, value: Any) -> None:
    send_bytes(stream, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def receive(stream: BinaryIO) -> Any:
    """One framed value; EOFError when the other side has gone."""
    return pickle.loads(receive_bytes(stream))


def send_bytes(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive_bytes(stream: BinaryIO, *, max_bytes: int | None = None) -> bytes:
    """One framed byte string; EOFError when the other side has gone, ValueError when it claims too much."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("channel closed")
    (size,) = _LENGTH.unpack(head)
    if max_bytes is not None and size > max_bytes:
        raise ValueError(f"answer of {size} bytes is over {max_bytes}")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("channel closed mid-message")
    return data


def readable(stream: BinaryIO, seconds: float) -> bool:
    """Whether an answer starts within `seconds` (a child that dies makes the pipe readable too: EOF)."""
    ready, _, _ = select.select([stream], [], [], max(0.0, seconds))
    return bool(ready)


def child_env() -> dict[str, str]:
    """This environment, with the code this process runs first on the path, wherever it was installed from."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def at_rest_bytes() -> int:
    """This process's address-space size now (VmSize), or 0 where /proc does not tell."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cap_memory(budget_bytes: int) -> None:
    """Limit this process's address space to what it holds now plus `budget_bytes` (a MemoryError past it)."""
    try:
        import resource
    except ImportError:  # not POSIX: the time budget still holds
        return
    at_rest = at_rest_bytes()
    if at_rest:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = at_rest + budget_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def cap_cpu(seconds: float) -> None:
    """Limit this process's CPU time (SIGXCPU ends it past the limit); children it starts inherit the limit."""
    try:
        import resource
    except ImportError:
        return
    soft = max(1, int(seconds + 0.999))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
