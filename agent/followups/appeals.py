"""The appeal timer: remind a person before the window to appeal closes, and chase an appeal body that is late."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.followup import human_date
from agent.config import Settings
from agent.db.models import Appeal, Request, ReviewItem
from agent.deadlines.appeal_dates import reminder_day
from agent.deadlines.zones import local_day
from agent.filing.thread import queue_thread_letter
from agent.followups.appeal_policy import AppealPolicy, load_appeal_policy
from agent.requests import lifecycle
from agent.requests.clock import calendar_for, statute_for

log = logging.getLogger(__name__)
ACTOR = "appeal-scan"
REMINDER_ITEM = "appeal_deadline"
OVERDUE_ITEM = "appeal_overdue"


@dataclass(frozen=True)
class AppealScanReport:
    reminders: int = 0
    expired: int = 0
    followups: int = 0
    overdue: int = 0
    errors: tuple[str, ...] = field(default=())


def scan_appeals(
    sessions: sessionmaker[Session], settings: Settings, *, today: dt.date, now: dt.datetime
) -> AppealScanReport:
    """One pass over the offered and filed appeals whose dates have come; each appeal in its own savepoint."""
    policy = load_appeal_policy(settings.rules_path)
    horizon = today + dt.timedelta(days=policy.reminder_days_before_close)
    counts = {"reminders": 0, "expired": 0, "followups": 0, "overdue": 0}
    errors: list[str] = []
    with sessions.begin() as session:
        rows = list(session.scalars(
            select(Appeal).where(or_(
                (Appeal.state == "offered") & (Appeal.window_closes <= horizon),
                (Appeal.state == "filed") & (Appeal.body_due < today),
            )).order_by(Appeal.id)
        ))
        for appeal in rows:
            try:
                with session.begin_nested():
                    done = _one(session, appeal, policy, settings, today, now)
                    if done:
                        counts[done] += 1
            except Exception as exc:  # noqa: BLE001 - one bad appeal must not stop the others
                log.exception("appeal %s failed", appeal.id)
                errors.append(f"appeal {appeal.id}: {type(exc).__name__}: {exc}")
    return AppealScanReport(**counts, errors=tuple(errors))


def _one(
    session: Session, appeal: Appeal, policy: AppealPolicy, settings: Settings, today: dt.date, now: dt.datetime
) -> str | None:
    request = session.get(Request, appeal.request_id)
    if request is None:
        return None
    if appeal.state == "offered":
        return _window(session, request, appeal, policy, today, now)
    return _late_body(session, request, appeal, policy, settings, today, now)


def _window(
    session: Session, request: Request, appeal: Appeal, policy: AppealPolicy, today: dt.date, now: dt.datetime
) -> str | None:
    closes = appeal.window_closes
    assert closes is not None
    if today > closes:
        appeal.state = "expired"
        lifecycle.record_event(session, request, "appeal_expired", cause="timer", actor=ACTOR,
                               detail={"appeal": appeal.id, "window_closed": closes.isoformat()},
                               from_state=request.state, to_state=request.state, now=now)
        return "expired"
    if appeal.reminded_on is not None or today < reminder_day(closes, policy.reminder_days_before_close):
        return None
    appeal.reminded_on = today
    left = (closes - today).days
    session.add(ReviewItem(
        kind=REMINDER_ITEM, request_id=request.id, message_row_id=appeal.decision_message_row_id,
        reason=(f"the window to appeal closes on {closes.isoformat()} ({left} day{'s' if left != 1 else ''} left); "
                f"`agent appeal send {request.reference} --yes` files it, dismiss lets it pass"),
        suggestions=[{"appeal": appeal.id, "window_closes": closes.isoformat()}],
    ))
    lifecycle.record_event(session, request, "appeal_window_reminder", cause="timer", actor=ACTOR,
                           detail={"appeal": appeal.id, "window_closes": closes.isoformat()},
                           from_state=request.state, to_state=request.state, now=now)
    return "reminders"


def _late_body(
    session: Session, request: Request, appeal: Appeal, policy: AppealPolicy, settings: Settings,
    today: dt.date, now: dt.datetime,
) -> str | None:
    """The first reminder on the day after the body's due date, then every `spacing` business days, then review."""
    calendar = calendar_for(settings.rules_path)
    due = appeal.body_due
    assert due is not None
    jur = statute_for(request.jurisdiction, settings.rules_path).id
    last = appeal.last_followup_on
    next_day = calendar.next_business_day(due, jur) if last is None else calendar.add_business_days(
        last, policy.followup_spacing_business_days, jur)
    if today < next_day:
        return None
    if appeal.followups_sent >= policy.max_followups:
        appeal.state = "overdue"
        session.add(ReviewItem(
            kind=OVERDUE_ITEM, request_id=request.id,
            reason=(f"the appeal body's decision was due {due.isoformat()}; {appeal.followups_sent} reminders and "
                    "no answer: consider judicial review, a call, or closing the request"),
        ))
        lifecycle.record_event(session, request, "appeal_overdue", cause="timer", actor=ACTOR,
                               detail={"appeal": appeal.id, "body_due": due.isoformat()},
                               from_state=request.state, to_state=request.state, now=now)
        return "overdue"
    statute = statute_for(request.jurisdiction, settings.rules_path)
    filed = local_day(appeal.filed_at, request.jurisdiction) or appeal.decision_date
    row = queue_thread_letter(
        session, request, kind="appeal_followup", settings=settings, now=now,
        template=policy.followup_template,
        variables={
            "to_whom": statute.appeal.to_whom, "statute_name": statute.name, "appeal_citation": statute.appeal.citation,
            "appeal_filed": human_date(filed), "body_due": human_date(due), "followup_number": appeal.followups_sent + 1,
        },
    )
    appeal.followups_sent += 1
    appeal.last_followup_on = today
    lifecycle.record_event(session, request, "appeal_followup", cause="timer", actor=ACTOR,
                           detail={"appeal": appeal.id, "outbox_id": row.id, "message_id": row.message_id,
                                   "number": appeal.followups_sent, "body_due": due.isoformat()},
                           from_state=request.state, to_state=request.state, now=now)
    return "followups"
