"""The clock after we answer an agency's clarification question, as the statute says (restart, toll, or unchanged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from agent.deadlines.business_days import BusinessCalendar
from agent.deadlines.compute import compute_deadline
from agent.deadlines.statutes import Statute


@dataclass(frozen=True)
class ClockAfterAnswer:
    """The request's new legal dates and a sentence saying why, for the event."""

    clock_start: date | None
    due: date | None
    extended_due: date | None
    basis: str


def _shift(day: date | None, days: int, statute: Statute, calendar: BusinessCalendar) -> date | None:
    if day is None or days <= 0:
        return day
    if statute.day_type == "business":
        return calendar.add_business_days(day, days, statute.id)
    return day + timedelta(days=days)


def clock_after_clarification(
    statute: Statute,
    calendar: BusinessCalendar,
    *,
    clock_start: date | None,
    due: date | None,
    extended_due: date | None,
    asked_on: date,
    answered_on: date,
) -> ClockAfterAnswer:
    """Where the deadline stands once our answer goes out on `answered_on` to a question asked on `asked_on`.

    restart: the clarified request counts as received the day we answer, and the full period runs again.
    toll: the days the question waited for us are added to the due dates (counted as the statute counts).
    unchanged: the law says nothing, so the agency's deadline stays where it was.
    """
    if statute.clarification == "restart":
        fresh = compute_deadline(statute, answered_on, calendar)
        # An extension the agency took belongs to the old period: it must claim one again if it needs it.
        return ClockAfterAnswer(
            answered_on, fresh.due, None,
            f"restarted on {answered_on.isoformat()} by our answer: {fresh.basis}",
        )
    if statute.clarification == "toll":
        if statute.day_type == "business":
            waited = max(0, calendar.business_days_between(asked_on, answered_on, statute.id))
        else:
            waited = max(0, (answered_on - asked_on).days)
        return ClockAfterAnswer(
            clock_start, _shift(due, waited, statute, calendar), _shift(extended_due, waited, statute, calendar),
            f"tolled {waited} {statute.day_type} day{'s' if waited != 1 else ''} while the question waited for us",
        )
    return ClockAfterAnswer(clock_start, due, extended_due, "unchanged: the statute sets no rule for clarifications")
