"""Read-only views for operators: the request list with its filters, request lookup, the review queue in order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session, defer, selectinload

from agent.db.models import Agency, Campaign, Message, Request, ReviewItem, TrackingNumber
from agent.operators.clock import as_utc, local_date
from agent.operators.ids import as_id
from agent.operators.vocab import AGENCY_OWES, waiting_on_agency


class NotFound(LookupError):
    """The reference, id or tracking number names nothing we know."""


@dataclass(frozen=True)
class RequestFilter:
    states: tuple[str, ...] = ()
    overdue: bool = False
    due_within: int | None = None  # days from today, inclusive
    campaign: str | None = None  # id or name
    agency: str | None = None  # part of the name, any case
    limit: int | None = None  # the first N in display order (oldest due first)


@dataclass(frozen=True)
class RequestRow:
    id: int
    reference: str
    agency: str
    tracking_numbers: tuple[str, ...]
    state: str
    filed: dt.date | None
    due: dt.date | None
    days_overdue: int | None  # None when not overdue
    next_action: dt.date | None
    last_reply: dt.date | None
    campaign: str | None
    next_step: str = ""  # what happens next, in a few words: "follow-up 2", "you: fee"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "agency": self.agency,
            "tracking_numbers": list(self.tracking_numbers),
            "state": self.state,
            "filed": _iso(self.filed),
            "due": _iso(self.due),
            "days_overdue": self.days_overdue,
            "next_action": _iso(self.next_action),
            "last_reply": _iso(self.last_reply),
            "campaign": self.campaign,
            "next_step": self.next_step,
        }


class DueDates(Protocol):
    """What effective_due reads: a Request, or a row of just these columns."""

    @property
    def due_date(self) -> dt.date | None: ...
    @property
    def extended_due(self) -> dt.date | None: ...
    @property
    def promised_date(self) -> dt.date | None: ...


def effective_due(req: DueDates) -> dt.date | None:
    """The date we are waiting for: the statutory (or extended) due, or a later date the agency promised."""
    candidates = [d for d in (req.extended_due or req.due_date, req.promised_date) if d is not None]
    return max(candidates) if candidates else None


def effective_due_sql() -> ColumnElement[dt.date]:
    """effective_due as a column expression, so the database filters by it instead of Python reading every row.

    CASE rather than GREATEST/MAX(a, b): those differ between SQLite and PostgreSQL when one side is NULL.
    """
    base = func.coalesce(Request.extended_due, Request.due_date)
    promised = Request.promised_date
    return case(
        (base.is_(None), promised),
        (promised.is_(None), base),
        (promised > base, promised),
        else_=base,
    )


def days_overdue(req: Request, today: dt.date) -> int | None:
    due = effective_due(req)
    if due is None or not waiting_on_agency(req.state) or due >= today:
        return None
    return (today - due).days


def list_requests(session: Session, filt: RequestFilter, *, today: dt.date, zone: str) -> list[RequestRow]:
    """Requests matching the filter, oldest due first (undated last), each with its last inbound reply."""
    last_reply = (
        select(Message.request_id, func.max(func.coalesce(Message.sent_date, Message.received_at)).label("at"))
        .where(Message.direction == "in", Message.request_id.is_not(None))
        .group_by(Message.request_id)
        .subquery()
    )
    stmt = (
        select(Request, last_reply.c.at)
        .join(Agency, Agency.id == Request.agency_id)
        .outerjoin(last_reply, last_reply.c.request_id == Request.id)
        .options(
            selectinload(Request.agency), selectinload(Request.tracking_numbers), selectinload(Request.campaign),
            # The letter and its variables are the bulk of a row and never shown here.
            defer(Request.body), defer(Request.variables),
        )
        # The display order (oldest due first, undated last), so a limit keeps the ones that matter most.
        .order_by(effective_due_sql().is_(None), effective_due_sql(), Request.id)
    )
    # The date filters run in the database too (the Python checks below stay exact), so a list of the few
    # overdue requests does not read the whole table into memory.
    owed = Request.state.in_(sorted(AGENCY_OWES))
    if filt.overdue:
        stmt = stmt.where(owed, effective_due_sql() < today)
    if filt.due_within is not None:
        stmt = stmt.where(owed, effective_due_sql().between(today, today + dt.timedelta(days=filt.due_within)))
    if filt.states:
        stmt = stmt.where(Request.state.in_(filt.states))
    if filt.agency:
        stmt = stmt.where(func.lower(Agency.name).contains(filt.agency.lower(), autoescape=True))
    if filt.campaign:
        stmt = stmt.join(Campaign, Campaign.id == Request.campaign_id)
        campaign_id = as_id(filt.campaign)
        if campaign_id is not None:
            stmt = stmt.where(or_(Campaign.id == campaign_id, Campaign.name == filt.campaign))
        else:
            stmt = stmt.where(func.lower(Campaign.name) == filt.campaign.lower())
    if filt.limit is not None:
        stmt = stmt.limit(filt.limit)
    rows: list[RequestRow] = []
    for req, reply_at in session.execute(stmt).all():
        over = days_overdue(req, today)
        due = effective_due(req)
        if filt.overdue and over is None:
            continue
        if filt.due_within is not None:
            if due is None or not waiting_on_agency(req.state):
                continue
            if not today <= due <= today + dt.timedelta(days=filt.due_within):
                continue
        replies = [d for d in (as_utc(reply_at), as_utc(req.last_reply_at)) if d is not None]
        rows.append(
            RequestRow(
                id=req.id,
                reference=req.reference,
                agency=req.agency.name,
                tracking_numbers=tuple(t.value for t in sorted(req.tracking_numbers, key=lambda t: t.id)),
                state=req.state,
                filed=local_date(req.filed_at, zone),
                due=due,
                days_overdue=over,
                next_action=req.next_action_date,
                last_reply=local_date(max(replies), zone) if replies else None,
                campaign=req.campaign.name if req.campaign else None,
                next_step=next_step(req),
            )
        )
    rows.sort(key=lambda r: (r.due is None, r.due or dt.date.max, r.id))
    return rows


# When the next move is ours, the date matters less than what to do.
OUR_MOVE: dict[str, str] = {
    "draft": "you: send it",
    "fee_required": "you: fee",
    "clarification_needed": "you: answer",
    "portal": "you: portal",
    "needs_review": "you: review",
}


def next_step(req: Request) -> str:
    if req.state in OUR_MOVE:
        return OUR_MOVE[req.state]
    if req.state == "queued":
        return "sending"
    if waiting_on_agency(req.state) and req.next_action_date is not None:
        return f"follow-up {req.followups_sent + 1}"
    return ""


def find_request(session: Session, ref: str) -> Request:
    """Our reference (any case), else the row id, else an agency tracking number that names one request."""
    ref = ref.strip()
    req = session.scalar(select(Request).where(func.upper(Request.reference) == ref.upper()))
    if req is not None:
        return req
    row_id = as_id(ref)
    if row_id is not None:
        req = session.get(Request, row_id)
        if req is not None:
            return req
    ids = session.scalars(
        select(TrackingNumber.request_id).where(func.upper(TrackingNumber.value) == ref.upper()).distinct()
    ).all()
    if len(ids) == 1:
        found = session.get(Request, ids[0])
        assert found is not None
        return found
    if len(ids) > 1:
        raise NotFound(f"tracking number {ref!r} belongs to {len(ids)} requests; use our reference")
    raise NotFound(f"no request with reference, id or tracking number {ref!r}")


def find_message(session: Session, ident: str) -> Message:
    """Our row id, or the Message-ID header with or without its angle brackets."""
    ident = ident.strip()
    row_id = as_id(ident)
    if row_id is not None:
        msg = session.get(Message, row_id)
        if msg is not None:
            return msg
    bare = ident.strip("<>")
    msg = session.scalars(
        select(Message).where(Message.message_id.in_([bare, f"<{bare}>"])).order_by(Message.id)
    ).first()
    if msg is None:
        raise NotFound(f"no message with id or Message-ID {ident!r}")
    return msg


# Who is hurt most by waiting comes first: mail that bounced or looks forged, then money and questions.
REVIEW_PRIORITY: dict[str, int] = {
    "bounce": 0,
    "spoof": 1,
    "unknown_sender": 1,
    "suspect_bounce": 1,
    "send_uncertain": 2,
    "outbox_paused": 2,
    "escalation": 3,
    "appeal_deadline": 3,  # a legal window is closing
    "appeal_offer": 3,
    "appeal_overdue": 3,
    "fee": 4,
    "clarification": 5,
    "portal": 6,
    "orphan": 7,
    "unexpected": 8,
    "low_confidence": 9,
    "attachment_failed": 9,
    "send_failed": 10,
    "followup_failed": 11,
    "quarantined": 12,
}


def review_queue(session: Session, *, include_skipped: bool = True, include_done: bool = False) -> list[ReviewItem]:
    """Open items by urgency then age; skipped ones come back after every open one, oldest first."""
    wanted = ["open"] + (["skipped"] if include_skipped else []) + (["done"] if include_done else [])
    items = list(session.scalars(select(ReviewItem).where(ReviewItem.state.in_(wanted))).all())
    rank = {"open": 0, "skipped": 1, "done": 2}
    items.sort(
        key=lambda i: (
            rank.get(i.state, 3),
            REVIEW_PRIORITY.get(i.kind, len(REVIEW_PRIORITY)),
            as_utc(i.created_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
            i.id,
        )
    )
    return items


@dataclass(frozen=True)
class Suggested:
    """One ranked guess for an orphan, named by our reference."""

    reference: str
    score: float | None
    reasons: tuple[str, ...]


def suggestions(session: Session, item: ReviewItem) -> tuple[Suggested, ...]:
    """The item's request suggestions (matcher JSON: request_id, score, reasons), best first; others are skipped."""
    out = []
    for s in item.suggestions or []:
        if not isinstance(s, dict):
            continue
        rid, ref = s.get("request_id"), s.get("reference")
        if ref is None and isinstance(rid, int):
            req = session.get(Request, rid)
            ref = req.reference if req else None
        if ref is None:
            continue
        score = s.get("score")
        why = s.get("reasons") or s.get("why") or ()
        out.append(Suggested(str(ref), float(score) if isinstance(score, (int, float)) else None,
                             tuple(why) if isinstance(why, (list, tuple)) else (str(why),)))
    return tuple(out)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
