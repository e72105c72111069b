"""How many examples a hypothesis fuzz test draws: its suite default, or RA_FUZZ_EXAMPLES (bench/fuzz.py).

The suite stays fast; the bench runs the same properties at 1,000 examples (issue 13)."""

from __future__ import annotations

import os


def examples(default: int) -> int:
    raw = os.environ.get("RA_FUZZ_EXAMPLES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default
