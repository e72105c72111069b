"""Per-agency send limit: never more than smtp.per_agency_per_hour mails to one agency in a rolling hour."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.db.models import Outbox

WINDOW = dt.timedelta(hours=1)


def sent_in_window(session: Session, agency_id: int, now: dt.datetime) -> int:
    """Rows to this agency sent or being sent within the last hour (claimed_at is the time of the last try)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.agency_id == agency_id,
                Outbox.state.in_(("sending", "sent", "uncertain")),
                Outbox.claimed_at > now - WINDOW,
            )
        )
        or 0
    )


class AgencyBudget:
    """Counts what one claim pass may still send per agency, starting from what the DB says was sent."""

    def __init__(self, session: Session, now: dt.datetime, per_hour: int) -> None:
        self._session = session
        self._now = now
        self._per_hour = per_hour
        self._used: dict[int, int] = {}

    def take(self, agency_id: int | None) -> bool:
        if agency_id is None:  # digests and operator mail are not aimed at an agency
            return True
        if agency_id not in self._used:
            self._used[agency_id] = sent_in_window(self._session, agency_id, self._now)
        if self._used[agency_id] >= self._per_hour:
            return False
        self._used[agency_id] += 1
        return True
