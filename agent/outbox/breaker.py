"""The outbox's circuit breaker: a server that refuses us pauses all sending, not each letter's attempts.

A refused connection, a failed login or a broken TLS handshake says nothing about the letter, so no
row is charged for it. The pause is a DaemonState row (`outbox_pause`) every daemon and `agent status`
read; it lasts pause_seconds, doubling with each failed try up to pause_max_seconds; the first pass
after it ends tries once, and a good connection lifts it. An open review item says why meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agent.config import SmtpSettings
from agent.daemon.status import publish
from agent.db.models import DaemonState, ReviewItem
from agent.operators.clock import as_utc
from agent.outbox.record import changed

NAME = "outbox_pause"
REVIEW_KIND = "outbox_paused"


@dataclass(frozen=True)
class Pause:
    reason: str
    since: dt.datetime
    until: dt.datetime
    failures: int

    def active(self, now: dt.datetime) -> bool:
        return now < self.until

    def as_json(self) -> dict[str, Any]:
        return {
            "paused": True,
            "reason": self.reason,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "failures": self.failures,
        }


def current_pause(session: Session) -> Pause | None:
    row = session.get(DaemonState, NAME, populate_existing=True)
    return pause_from(row.value if row is not None else None)


def pause_from(value: Any) -> Pause | None:
    """A Pause from its published JSON (the DB row or the status file); None when there is none or it is damaged."""
    if not isinstance(value, dict) or not value.get("paused"):
        return None
    try:
        since = as_utc(dt.datetime.fromisoformat(str(value["since"])))
        until = as_utc(dt.datetime.fromisoformat(str(value["until"])))
        return Pause(str(value.get("reason", "")), since, until, int(value.get("failures", 1))) if since and until else None
    except (KeyError, TypeError, ValueError):
        return None


def pause_length(smtp: SmtpSettings, failures: int) -> dt.timedelta:
    seconds = smtp.pause_seconds * (2 ** min(max(failures - 1, 0), 30))
    return dt.timedelta(seconds=min(seconds, smtp.pause_max_seconds))


def trip(session: Session, smtp: SmtpSettings, reason: str, now: dt.datetime) -> Pause:
    """Pause (or extend the pause) in the caller's transaction; opens one review item while it lasts."""
    before = current_pause(session)
    failures = (before.failures if before else 0) + 1
    pause = Pause(reason, before.since if before else now, now + pause_length(smtp, failures), failures)
    publish(session, NAME, pause.as_json())
    item = session.scalars(
        select(ReviewItem).where(ReviewItem.kind == REVIEW_KIND, ReviewItem.state == "open").limit(1)
    ).first()
    text = f"sending is paused: {reason}; next try {pause.until:%Y-%m-%d %H:%M} UTC (no letter's attempts are spent)"
    if item is None:
        session.add(ReviewItem(kind=REVIEW_KIND, reason=text))
    else:
        item.reason = text
    return pause


def lift(session: Session, now: dt.datetime) -> bool:
    """End a pause after a good connection; True when there was one. Its review item closes itself."""
    had = changed(session, delete(DaemonState).where(DaemonState.name == NAME)) > 0
    changed(
        session,
        update(ReviewItem)
        .where(ReviewItem.kind == REVIEW_KIND, ReviewItem.state == "open")
        .values(state="done", resolved_by="outbox", resolved_at=now),
    )
    return had
