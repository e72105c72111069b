"""Appeal timing as data (rules/appeals.toml): the window reminder and the chase of a late appeal body."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.followups.policy import PolicyError

POLICY_FILE = "appeals.toml"


class AppealPolicyError(PolicyError):
    """rules/appeals.toml holds an unknown key or a wrong value; the message names file and key.

    A PolicyError, so every place that refuses to start on a bad follow-up policy refuses on this too."""


@dataclass(frozen=True)
class AppealPolicy:
    reminder_days_before_close: int = 7
    max_followups: int = 2
    followup_spacing_business_days: int = 10
    template: str = "appeal.txt.j2"
    followup_template: str = "appeal_followup.txt.j2"


_INT_KEYS = ("reminder_days_before_close", "max_followups", "followup_spacing_business_days")
_STR_KEYS = ("template", "followup_template")


@lru_cache(maxsize=8)
def load_appeal_policy(rules_dir: Path) -> AppealPolicy:
    """Read once; a missing file means the defaults above, a wrong key refuses with the file's name."""
    path = Path(rules_dir) / POLICY_FILE
    if not path.is_file():
        return AppealPolicy()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AppealPolicyError(f"{path}: not valid TOML: {exc}") from exc
    for key, value in data.items():
        if key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise AppealPolicyError(f"{path}: key '{key}' must be a whole number of days, got {value!r}")
        elif key in _STR_KEYS:
            if not isinstance(value, str) or not value:
                raise AppealPolicyError(f"{path}: key '{key}' must be a template file name")
        else:
            raise AppealPolicyError(f"{path}: unknown key '{key}'")
    return AppealPolicy(**data)
