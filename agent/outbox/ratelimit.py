"""Send limits: per agency (smtp.per_agency_per_hour) and for the whole account (smtp.per_minute, smtp.per_day)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.db.models import Outbox

WINDOW = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
# Rows that used the server's patience: sent, being sent, or possibly sent.
_SPENT = ("sending", "sent", "uncertain")


def sent_in_window(session: Session, agency_id: int, now: dt.datetime) -> int:
    """Rows to this agency sent or being sent within the last hour (claimed_at is the time of the last try)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.agency_id == agency_id, Outbox.state.in_(_SPENT), Outbox.claimed_at > now - WINDOW)
        )
        or 0
    )


def account_sent_since(session: Session, since: dt.datetime) -> int:
    """Rows the account sent or is sending since `since`, whoever they were for (digests included)."""
    return int(
        session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.state.in_(_SPENT), Outbox.claimed_at > since)
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


class AccountBudget:
    """What one claim pass may still send for the whole account in the rolling minute and day."""

    def __init__(self, session: Session, now: dt.datetime, per_minute: int, per_day: int) -> None:
        self._left_minute = per_minute - account_sent_since(session, now - MINUTE)
        self._left_day = per_day - account_sent_since(session, now - DAY)

    @property
    def exhausted(self) -> bool:
        return self._left_minute <= 0 or self._left_day <= 0

    @property
    def which(self) -> str:
        """The limit that stops sending now (the day's outlasts the minute's)."""
        return "per_day" if self._left_day <= 0 else "per_minute"

    def take(self) -> bool:
        if self.exhausted:
            return False
        self._left_minute -= 1
        self._left_day -= 1
        return True
