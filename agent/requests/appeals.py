"""The appeal record of a request: offered on a decision, answered by the body's reply; no mail is written here.

Writing and sending the appeal letter lives in agent/filing/appeals.py; the window and late-body timer in
agent/followups/appeals.py. This module is what the pipeline's apply stage may call, so it stays below both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Appeal, Message, Request, ReviewItem
from agent.deadlines.appeal_dates import window_closes
from agent.deadlines.zones import local_day
from agent.requests import lifecycle
from agent.requests.clock import calendar_for, statute_for

ACTOR = "appeals"
OFFER_ITEM = "appeal_offer"
# Appeal states in which the body still owes a decision: a reply in the thread answers the appeal.
PENDING = ("filed", "overdue")
OPEN = ("offered",) + PENDING
# Labels that are the body's decision; an acknowledgment or an extension leaves the appeal pending.
DECISIONS = frozenset({"final_records", "batch", "denial", "no_records", "fee", "clarification", "portal_redirect"})
# What a request state says the appealed decision was.
DECISION_OF_STATE = {"rejected": "denial", "no_records": "no_records"}


def open_appeal(session: Session, request: Request) -> Appeal | None:
    """The request's appeal that is still offered or awaiting the body, newest first."""
    return session.scalars(
        select(Appeal).where(Appeal.request_id == request.id, Appeal.state.in_(OPEN)).order_by(Appeal.id.desc())
    ).first()


def was_appealed(session: Session, request: Request) -> bool:
    """An appeal was filed once: a second denial is the body's final word, and the next step is a court."""
    return session.scalar(
        select(Appeal.id).where(Appeal.request_id == request.id, Appeal.filed_at.is_not(None)).limit(1)
    ) is not None


def unavailable_reason(jurisdiction: str, rules_dir: Path | None) -> str | None:
    """Why no appeal can be offered in this jurisdiction (from the statute data), or None when one exists."""
    statute = statute_for(jurisdiction, rules_dir)
    if statute.appeal.exists:
        return None
    return f"{statute.name}: no administrative appeal. {statute.appeal.note}".strip()


def decision_day(request: Request, message: Message | None, now: dt.datetime) -> dt.date:
    """The decision's date in the agency's own calendar: the letter's Date header, else when we read it."""
    moment = (message.sent_date or message.received_at) if message is not None else None
    return local_day(moment or now, request.jurisdiction) or now.date()


def offer(
    session: Session,
    request: Request,
    *,
    kind: str,
    message: Message | None,
    now: dt.datetime,
    rules_dir: Path | None,
    review: bool = True,
) -> Appeal | None:
    """Record that an appeal may follow `kind` (denial | no_records | silence) and, with `review`, ask a person.

    Returns None, with an event saying why, where the law gives no appeal or one was already filed."""
    existing = open_appeal(session, request)
    if existing is not None and (existing.state != "offered" or existing.decision_kind == kind):
        return existing
    why = unavailable_reason(request.jurisdiction, rules_dir)
    if why is None and was_appealed(session, request):
        why = "the appeal was already filed and decided; the next step is judicial review"
    if why is not None:
        lifecycle.record_event(
            session, request, "appeal_unavailable", cause="system", actor=ACTOR, detail={"reason": why, "decision": kind},
            from_state=request.state, to_state=request.state, message=message, now=now,
        )
        return None
    statute = statute_for(request.jurisdiction, rules_dir)
    decided = decision_day(request, message, now)
    closes = window_closes(statute, decided, calendar_for(rules_dir))
    if message is not None and message.id is None:
        session.flush()
    if existing is not None:
        # Silence was offered for appeal, then the agency decided after all: the appeal is of the decision now.
        existing.state = "superseded"
    appeal = Appeal(
        request_id=request.id, decision_message_row_id=message.id if message is not None else None,
        decision_kind=kind, decision_date=decided, window_closes=closes, state="offered", followups_sent=0,
    )
    session.add(appeal)
    session.flush()
    if review:
        by = f" by {closes.isoformat()}" if closes else " (the law sets no deadline for it)"
        caution = "" if statute.appeal.verified else "; the appeal rule is NOT verified, check it first"
        what = {"denial": "the agency denied the request", "no_records": "the agency says it holds no records",
                "silence": "the agency has not answered"}.get(kind, kind)
        session.add(ReviewItem(
            kind=OFFER_ITEM, request_id=request.id, message_row_id=appeal.decision_message_row_id,
            reason=(f"{what}; it may be appealed to {statute.appeal.to_whom} under {statute.appeal.citation}{by}"
                    f"{caution}; `agent appeal send {request.reference} --yes` files it, dismiss declines"),
            suggestions=[{"appeal": appeal.id, "window_closes": closes.isoformat() if closes else None}],
        ))
    lifecycle.record_event(
        session, request, "appeal_offered", cause="system", actor=ACTOR,
        detail={"appeal": appeal.id, "decision": kind, "decision_date": decided.isoformat(),
                "window_closes": closes.isoformat() if closes else None, "citation": statute.appeal.citation},
        from_state=request.state, to_state=request.state, message=message, now=now,
    )
    return appeal


def note_reply(
    session: Session, request: Request, message: Message, label: str, expected: dt.date | None, *, now: dt.datetime
) -> Appeal | None:
    """An agency reply while an appeal is pending: a decision answers it; an extension may move its due date."""
    appeal = session.scalars(
        select(Appeal).where(Appeal.request_id == request.id, Appeal.state.in_(PENDING)).order_by(Appeal.id.desc())
    ).first()
    if appeal is None:
        return None
    if label == "extension" and expected is not None and (appeal.body_due is None or expected > appeal.body_due):
        appeal.body_due = expected
    if label not in DECISIONS:
        return appeal
    if message.id is None:
        session.flush()
    appeal.state = "answered"
    appeal.outcome = label
    appeal.answer_message_row_id = message.id
    lifecycle.record_event(
        session, request, "appeal_answered", cause="message", actor=ACTOR, detail={"appeal": appeal.id, "outcome": label},
        from_state=request.state, to_state=request.state, message=message, now=now,
    )
    return appeal


def decline(session: Session, request: Request, *, operator: str, now: dt.datetime) -> Appeal | None:
    """The operator will not appeal: the offer and its reminders stop."""
    appeal = open_appeal(session, request)
    if appeal is None or appeal.state != "offered":
        return None
    appeal.state = "declined"
    lifecycle.record_event(
        session, request, "appeal_declined", cause="operator", actor=operator, detail={"appeal": appeal.id},
        from_state=request.state, to_state=request.state, now=now,
    )
    return appeal
