"""Follow-up policy as data (rules/followups.toml) and the one function that says when to act next."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.db.models import Request
from agent.deadlines.business_days import BusinessCalendar
from agent.deadlines.zones import local_day
from agent.requests.clock import calendar_jurisdiction
from agent.requests.states import follows_up

POLICY_FILE = "followups.toml"
STREAK_FLAG = "followup_streak"  # follow-ups sent since the agency last answered


class PolicyError(Exception):
    """rules/followups.toml is missing a key or holds a wrong value; the message names file and key."""


@dataclass(frozen=True)
class FollowupPolicy:
    max_followups: int = 3
    spacing_business_days: int = 10
    escalate_after_business_days: int = 5
    after_reply_business_days: int = 10
    template: str = "followup.txt.j2"


_INT_KEYS = ("max_followups", "spacing_business_days", "escalate_after_business_days", "after_reply_business_days")


@lru_cache(maxsize=8)
def load_policy(rules_dir: Path) -> FollowupPolicy:
    """Read and validate the policy once; an unknown key or a non-positive number refuses to start."""
    path = Path(rules_dir) / POLICY_FILE
    if not path.is_file():
        raise PolicyError(f"{path}: follow-up policy not found")
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc
    for key, value in data.items():
        if key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PolicyError(f"{path}: key '{key}' must be a positive integer, got {value!r}")
        elif key == "template":
            if not isinstance(value, str) or not value:
                raise PolicyError(f"{path}: key 'template' must be a template file name")
        else:
            raise PolicyError(f"{path}: unknown key '{key}'")
    return FollowupPolicy(**data)


def streak(request: Request) -> int:
    return int((request.flags or {}).get(STREAK_FLAG, 0))


def checkpoint(request: Request) -> dt.date | None:
    """The later of the (possibly extended) statutory deadline and the agency's own promise."""
    # max() rather than "extended or due": a misread extension date must never pull a reminder forward.
    dates = [d for d in (request.due_date, request.extended_due, request.promised_date) if d is not None]
    return max(dates) if dates else None


def next_action_date(request: Request, policy: FollowupPolicy, calendar: BusinessCalendar) -> dt.date | None:
    """When the timer should next look at this request: a follow-up, or the escalation after the last one.

    None means never (closed, waiting on us, or no deadline known).
    """
    if not follows_up(request.state):
        return None
    cp = checkpoint(request)
    if cp is None:
        return None
    jur = calendar_jurisdiction(request.jurisdiction)
    sent = streak(request)
    last_followup = local_day(request.last_followup_at, jur)
    if sent == 0 or last_followup is None:
        reply_day = local_day(request.last_reply_at, jur)
        if reply_day is not None and reply_day >= cp:
            # The agency answered after its deadline: give it some room before the first reminder.
            return calendar.add_business_days(reply_day, policy.after_reply_business_days, jur)
        return calendar.next_business_day(cp, jur)
    if sent < policy.max_followups:
        return calendar.add_business_days(last_followup, policy.spacing_business_days, jur)
    return calendar.add_business_days(last_followup, policy.escalate_after_business_days, jur)


def should_escalate(request: Request, policy: FollowupPolicy) -> bool:
    return streak(request) >= policy.max_followups
