"""Deadline arithmetic: a statute and a start date in, due dates and a readable reason out; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from agent.deadlines.business_days import DEFAULT_CALENDAR, BusinessCalendar
from agent.deadlines.statutes import DayType, Statute

_CLOCK_WORDS = {"received": "receipt", "sent": "sending"}


@dataclass(frozen=True)
class Deadline:
    due: date
    extended_due: date | None  # None when the law allows no extension
    basis: str
    citation: str
    jurisdiction: str = ""
    vague: bool = False


def _advance(start: date, days: int, day_type: DayType, jurisdiction: str, calendar: BusinessCalendar) -> date:
    """Count `days` from `start` (day 0): calendar days plainly, business days on the jurisdiction's calendar."""
    if day_type == "business":
        return calendar.add_business_days(start, days, jurisdiction)
    return start + timedelta(days=days)


def _roll(d: date, statute: Statute, calendar: BusinessCalendar) -> date:
    if statute.roll == "next_business_day":
        return calendar.roll_forward(d, statute.id)
    return d


def compute_deadline(statute: Statute, start: date, calendar: BusinessCalendar) -> Deadline:
    """The statutory due date and, where the law allows one, the latest extended due date.

    The extension is added to the end of the ORIGINAL period before any weekend roll: the statutes
    grant "N more days" beyond the initial period (CPRA: 10 + at most 14), and the roll applies only to
    whichever day ends up last. A business-day count already ends on a business day, so this matters
    only for calendar days.
    """
    end = _advance(start, statute.days, statute.day_type, statute.id, calendar)
    due = _roll(end, statute, calendar)
    extended_due: date | None = None
    ext = statute.extension
    if ext.days > 0:
        extended_due = _roll(_advance(end, ext.days, ext.day_type, statute.id, calendar), statute, calendar)
    return Deadline(
        due=due,
        extended_due=extended_due,
        basis=describe(statute, rolled=due != end),
        citation=statute.citation,
        jurisdiction=statute.id,
        vague=statute.vague,
    )


def describe(statute: Statute, rolled: bool = False) -> str:
    """E.g. "10 calendar days from receipt, rolled to next business day"."""
    text = f"{statute.days} {statute.day_type} days from {_CLOCK_WORDS[statute.clock_starts]}"
    if statute.vague:
        text += " (no fixed period in the law: configured default)"
    if rolled:
        text += ", rolled to next business day"
    return text


def business_days_between(
    a: date, b: date, jurisdiction: str, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> int:
    """Business days after `a` up to and including `b` (negative when `b` is earlier)."""
    return calendar.business_days_between(a, b, jurisdiction)


def days_overdue(due: date, today: date) -> int:
    """Calendar days past the due date; 0 on or before it."""
    return max(0, (today - due).days)
