"""Write and file an appeal: the letter from rules/templates/appeal.txt.j2, sent once in the request's thread."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.compose.followup import human_date
from agent.config import Settings
from agent.db.models import Appeal, Message, Request, ReviewItem
from agent.deadlines.appeal_dates import body_due, window_closes
from agent.deadlines.statutes import Statute
from agent.deadlines.zones import local_day
from agent.filing.thread import ThreadFacts, letter_text, queue_thread_letter, thread_facts
from agent.followups.appeal_policy import load_appeal_policy
from agent.requests import appeals, lifecycle, states
from agent.requests.clock import calendar_for, statute_for


class AppealError(ValueError):
    """No appeal can be drafted or filed for this request; the message says why in one line."""


@dataclass(frozen=True)
class AppealDraft:
    """The letter and what it rests on, for the preview and for `send`."""

    reference: str
    decision_kind: str
    decision_date: dt.date
    window_closes: dt.date | None
    citation: str
    to_whom: str
    verified: bool
    in_thread: bool
    text: str
    appeal_id: int | None  # the offered appeal, when one was recorded

    def as_json(self) -> dict[str, Any]:
        return {
            "request": self.reference, "decision": self.decision_kind, "decision_date": self.decision_date.isoformat(),
            "window_closes": self.window_closes.isoformat() if self.window_closes else None, "citation": self.citation,
            "to_whom": self.to_whom, "verified": self.verified, "in_thread": self.in_thread, "text": self.text,
            "appeal": self.appeal_id,
        }


def _offer_of(session: Session, request: Request) -> Appeal | None:
    """The recorded offer this appeal would answer: still offered, or let pass (expired, declined) and now taken up."""
    return session.scalars(
        select(Appeal).where(Appeal.request_id == request.id, Appeal.state.in_(("offered", "expired", "declined")))
        .order_by(Appeal.id.desc()).limit(1)
    ).first()


def _decision(session: Session, request: Request, now: dt.datetime) -> tuple[str, dt.date, Message | None]:
    """What is appealed, when it was decided, and the message that said so (None for silence)."""
    offered = _offer_of(session, request)
    if offered is not None:
        message = session.get(Message, offered.decision_message_row_id) if offered.decision_message_row_id else None
        return offered.decision_kind, offered.decision_date, message
    kind = appeals.DECISION_OF_STATE.get(request.state, "silence")
    message = None
    if kind != "silence":
        message = session.scalars(
            select(Message).where(Message.request_id == request.id, Message.direction == "in", Message.label == kind)
            .order_by(Message.id.desc()).limit(1)
        ).first()
    return kind, appeals.decision_day(request, message, now), message


def _check(session: Session, request: Request, statute: Statute) -> None:
    if not statute.appeal.exists:
        raise AppealError(f"{request.reference}: {statute.name}: no administrative appeal. {statute.appeal.note}".strip())
    pending = appeals.open_appeal(session, request)
    if pending is not None and pending.state in appeals.PENDING:
        filed = pending.filed_at.date().isoformat() if pending.filed_at else "earlier"
        raise AppealError(f"{request.reference}: already appealed on {filed}; waiting for {statute.appeal.to_whom}")
    if appeals.was_appealed(session, request):
        raise AppealError(f"{request.reference}: the appeal was already filed and decided; the next step is a court")
    if not states.can(request.state, "appeal"):
        raise AppealError(f"{request.reference}: a request in state {request.state!r} cannot be appealed")


def _variables(
    request: Request, statute: Statute, kind: str, decided: dt.date, due_by: dt.date | None, grounds: str
) -> dict[str, Any]:
    legal_due = request.extended_due or request.due_date
    return {
        "to_whom": statute.appeal.to_whom,
        "statute_name": statute.name,
        "appeal_citation": statute.appeal.citation,
        "decision_kind": kind,
        "decision_date": human_date(decided),
        "due_date": human_date(legal_due) if legal_due else "the statutory date",
        "body_due": human_date(due_by) if due_by else None,
        "grounds": " ".join(grounds.split()),
    }


def _compose(
    session: Session, request: Request, settings: Settings, now: dt.datetime, grounds: str
) -> tuple[AppealDraft, ThreadFacts | None, dict[str, Any]]:
    statute = statute_for(request.jurisdiction, settings.rules_path)
    _check(session, request, statute)
    kind, decided, _ = _decision(session, request, now)
    offered = _offer_of(session, request)
    closes = offered.window_closes if offered is not None else None
    if offered is None:
        closes = window_closes(statute, decided, calendar_for(settings.rules_path))
    today = local_day(now, request.jurisdiction) or now.date()
    due_by = body_due(statute, today, calendar_for(settings.rules_path))
    variables = _variables(request, statute, kind, decided, due_by, grounds)
    facts = thread_facts(session, request, settings, now)
    template = load_appeal_policy(settings.rules_path).template
    if facts is None:
        raise AppealError(f"{request.reference}: {request.agency.name} has no email address; file the appeal by hand")
    text = letter_text(facts, template, variables, settings)
    draft = AppealDraft(
        reference=request.reference, decision_kind=kind, decision_date=decided, window_closes=closes,
        citation=statute.appeal.citation, to_whom=statute.appeal.to_whom, verified=statute.appeal.verified,
        in_thread=statute.appeal.in_thread, text=text, appeal_id=offered.id if offered is not None else None,
    )
    return draft, facts, variables


def draft_appeal(
    session: Session, request: Request, *, settings: Settings, now: dt.datetime, grounds: str = ""
) -> AppealDraft:
    """The appeal letter as it would go out now; writes nothing."""
    return _compose(session, request, settings, now, grounds)[0]


def send_appeal(
    session: Session,
    request: Request,
    *,
    settings: Settings,
    now: dt.datetime,
    operator: str,
    grounds: str = "",
    allow_late: bool = False,
) -> Appeal:
    """Queue the appeal in the request's thread, exactly once, and move the request to "appealed".

    Everything (the outbox row, the appeal's dates, the state, the closed offer) commits in the caller's
    transaction, so a crash leaves either all of it or none: the letter can neither be lost nor sent twice."""
    draft, facts, _ = _compose(session, request, settings, now, grounds)
    if not draft.in_thread:
        raise AppealError(
            f"{request.reference}: the appeal goes to {draft.to_whom}, not to the agency's thread; "
            "print it with `agent appeal draft` and file it there"
        )
    today = local_day(now, request.jurisdiction) or now.date()
    if draft.window_closes is not None and today > draft.window_closes and not allow_late:
        raise AppealError(f"{request.reference}: the window to appeal closed on {draft.window_closes.isoformat()}")
    appeal = _offer_of(session, request)
    if appeal is None:
        _, _, message = _decision(session, request, now)
        appeal = Appeal(
            request_id=request.id, decision_message_row_id=message.id if message is not None else None,
            decision_kind=draft.decision_kind, decision_date=draft.decision_date,
            window_closes=draft.window_closes, state="offered", followups_sent=0,
        )
        session.add(appeal)
    row = queue_thread_letter(session, request, kind="appeal", settings=settings, now=now, text=draft.text, facts=facts)
    appeal.state = "filed"
    appeal.filed_at = now
    appeal.outbox_id = row.id
    appeal.message_id = row.message_id
    appeal.body_due = body_due(statute_for(request.jurisdiction, settings.rules_path), today,
                               calendar_for(settings.rules_path))
    session.flush()
    for item in session.scalars(
        select(ReviewItem).where(ReviewItem.request_id == request.id, ReviewItem.state != "done",
                                 ReviewItem.kind.in_((appeals.OFFER_ITEM, "appeal_deadline", "escalation")))
    ):
        item.state, item.resolved_by, item.resolved_at = "done", operator, now
    lifecycle.fire(
        session, request, "appeal", cause="operator", actor=operator,
        detail={"appeal": appeal.id, "outbox_id": row.id, "message_id": row.message_id, "decision": draft.decision_kind,
                "body_due": appeal.body_due.isoformat() if appeal.body_due else None, "citation": draft.citation},
        now=now, rules_dir=settings.rules_path,
    )
    return appeal
