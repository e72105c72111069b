"""A sandbox child whose reader misbehaves on purpose (by file name), to show the limits hold from outside.

Run as the sandbox's CHILD_MODULE: the real child's main() and limits, with this reader in place of read_here.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from agent.documents import sandbox_child


def _misbehave(payload: bytes, *, filename: str, **_: Any) -> Any:
    if filename == "eat-memory":
        hoard = []
        while True:
            hoard.append(bytearray(16 << 20))
    if filename == "spin":
        while True:
            pass
    if filename == "sleep":
        time.sleep(3600)
    if filename == "crash":
        os.abort()
    if filename == "tesseract-like":  # a grandchild that would outlive a killed child
        pid = os.fork()
        if pid == 0:
            time.sleep(3600)
            os._exit(0)
        with open(payload.decode(), "w") as note:
            note.write(str(pid))
        time.sleep(3600)
    raise ValueError(filename)


if __name__ == "__main__":
    sys.exit(sandbox_child.main(sys.argv[1:], reader=_misbehave))
