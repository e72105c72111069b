"""The legal clock of one request: statutes and the business calendar, loaded once per rules folder."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from agent.deadlines.business_days import BusinessCalendar, load_calendar
from agent.deadlines.compute import Deadline, compute_deadline
from agent.resources import bundled_rules
from agent.deadlines.statutes import JURISDICTIONS, Statute, load_statutes, statute_dir


@lru_cache(maxsize=8)
def deadline_tools(rules_dir: Path) -> tuple[dict[str, Statute], BusinessCalendar]:
    """Statutes and calendar for a rules folder; validated on first use and then reused by every request."""
    directory = statute_dir(Path(rules_dir))
    return load_statutes(directory), load_calendar(directory)


def rules_or_default(rules_dir: Path | None) -> Path:
    return Path(rules_dir) if rules_dir is not None else bundled_rules()


def calendar_for(rules_dir: Path | None) -> BusinessCalendar:
    return deadline_tools(rules_or_default(rules_dir))[1]


def statute_for(jurisdiction: str, rules_dir: Path | None) -> Statute:
    statutes, _ = deadline_tools(rules_or_default(rules_dir))
    return statutes[calendar_jurisdiction(jurisdiction)]


def calendar_jurisdiction(jurisdiction: str) -> str:
    """An unknown jurisdiction id falls back to the federal calendar rather than crashing a scan."""
    code = (jurisdiction or "").upper()
    return code if code in JURISDICTIONS else "US"


def statutory_deadline(jurisdiction: str, start: dt.date, rules_dir: Path | None) -> Deadline:
    statutes, calendar = deadline_tools(rules_or_default(rules_dir))
    return compute_deadline(statutes[calendar_jurisdiction(jurisdiction)], start, calendar)
