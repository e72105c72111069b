"""Appeal arithmetic: when the window to appeal closes and when the appeal body must answer; no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from agent.deadlines.business_days import BusinessCalendar
from agent.deadlines.statutes import DayType, Statute


@dataclass(frozen=True)
class AppealWindow:
    """The dates an appeal lives by; None where the law fixes no number of days."""

    closes: dt.date | None  # last day to file, counted from the decision
    body_due: dt.date | None  # last day for the body's decision, counted from filing (None until filed)


def _count(start: dt.date, days: int, day_type: DayType, jurisdiction: str, calendar: BusinessCalendar) -> dt.date:
    """Like the request deadline: business days end on a business day; a calendar end rolls off a closed day."""
    if day_type == "business":
        return calendar.add_business_days(start, days, jurisdiction)
    return calendar.roll_forward(start + dt.timedelta(days=days), jurisdiction)


def window_closes(statute: Statute, decision: dt.date, calendar: BusinessCalendar) -> dt.date | None:
    """The last day to appeal a decision dated `decision`; None when there is no appeal or no fixed window."""
    appeal = statute.appeal
    if not appeal.exists or appeal.days_to_appeal == 0:
        return None
    return _count(decision, appeal.days_to_appeal, appeal.day_type, statute.id, calendar)


def body_due(statute: Statute, filed: dt.date, calendar: BusinessCalendar) -> dt.date | None:
    """The last day for the appeal body to decide an appeal received on `filed`; None when none is fixed."""
    appeal = statute.appeal
    if not appeal.exists or appeal.body_days == 0:
        return None
    return _count(filed, appeal.body_days, appeal.body_day_type, statute.id, calendar)


def appeal_window(
    statute: Statute, decision: dt.date, calendar: BusinessCalendar, filed: dt.date | None = None
) -> AppealWindow:
    return AppealWindow(
        closes=window_closes(statute, decision, calendar),
        body_due=body_due(statute, filed, calendar) if filed is not None else None,
    )


def reminder_day(closes: dt.date, days_before: int) -> dt.date:
    """The day the operator is reminded that the window is closing (never before the decision itself matters)."""
    return closes - dt.timedelta(days=days_before)
