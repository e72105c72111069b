"""Deterministic crash points for the kill -9 tests; inert unless the environment variable names one."""

from __future__ import annotations

import os
import signal

CRASH_ENV = "AGENT_TEST_CRASH_AT"
POINTS = ("after_archive", "after_checkpoint")


def crash_point(name: str) -> None:
    """Die exactly as a power cut would (SIGKILL: no cleanup, no flush) when AGENT_TEST_CRASH_AT == name."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
