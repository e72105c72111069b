"""`mypy --strict agent` stays clean: a type error is caught in the suite (and so in CI), not by a reader."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# A cache outside the tree, one per checkout: a cold run takes about a minute, a warm one a few seconds,
# and mypy re-checks whatever changed since (it compares each file's hash), so a stale cache cannot hide an error.
CACHE = Path(tempfile.gettempdir()) / f"records-agent-mypy-{hashlib.sha256(str(REPO).encode()).hexdigest()[:12]}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_mypy_strict_agent_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(CACHE), "agent"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"mypy --strict agent failed:\n{result.stdout}{result.stderr}"
