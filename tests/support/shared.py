"""The project's shared/ folder (the real corpus and seed threads) sits beside the repository, never inside it.

Found relative to the repository root, so a clone anywhere (and CI's copy beside its clone) finds it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DEV_SET = SHARED / "corpus" / "dev.jsonl"
SEEDS = SHARED / "seeds"
