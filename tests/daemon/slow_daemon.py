"""A daemon whose poll takes a while and leaves marks in a file: the subject of the signal tests.

Only the poll body is swapped (for one that sleeps); the scheduler, signals, shutdown and status are
the real ones. Usage: python slow_daemon.py CONFIG MARKS POLL_SECONDS
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from agent.config import load_settings
from agent.daemon.logging_setup import setup_logging
from agent.daemon.run import build_jobs, serve


def main() -> int:
    config, marks, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    settings = load_settings(config)
    setup_logging(settings)
    jobs = build_jobs(settings)

    def slow_poll() -> dict[str, int]:
        with marks.open("a") as fh:
            fh.write(f"start {time.time()}\n")
        time.sleep(seconds)
        with marks.open("a") as fh:
            fh.write(f"end {time.time()}\n")
        return {"new": 0}

    jobs._poll_sync = slow_poll  # type: ignore[method-assign]
    return asyncio.run(serve(jobs))


if __name__ == "__main__":
    sys.exit(main())
