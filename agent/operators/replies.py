"""Answering the agency from review: a fee agreed or narrowed or declined, a question answered, a portal number kept.

Each answer is one transaction: the letter's outbox row (with its fixed Message-ID), the review item closed,
the request's state and clock moved and the events written commit together or not at all. A crash before
the commit leaves the item open and nothing queued; after it, the outbox sends the one row it holds, and
answering the same item again is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from agent.compose.answers import CONFIRM_INTEREST
from agent.config import Settings
from agent.db.models import Message, Request, ReviewItem
from agent.deadlines.clarified import clock_after_clarification
from agent.filing.requests import withdraw
from agent.filing.thread import ThreadLetterError, letter_text, queue_thread_letter, thread_facts
from agent.inbound.process import learn_tracking_numbers
from agent.operators.clock import as_utc, local_date, local_today
from agent.operators.review import ActionResult, ReviewError, action_result, item_request, open_item, record_event
from agent.requests import lifecycle, states
from agent.requests.clock import calendar_for, statute_for

DECLINE_REASON = "I have decided not to pay the fee, so I withdraw the request."

# Which item kinds each answer fits; anything else is refused before a letter is written.
_FITS: dict[str, tuple[str, ...]] = {
    "approve-fee": ("fee",),
    "narrow": ("fee",),
    "decline-fee": ("fee",),
    "reply": ("fee", "clarification"),
    "confirm-interest": ("clarification",),
    "portal": ("portal",),
}
# A free-form reply to a fee notice narrows it (or argues it); to a question, it answers it.
_REPLY_TRIGGER = {"fee": "narrowed", "clarification": "clarified"}
_PORTAL_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/#:-]{0,98}[A-Za-z0-9]$|^[A-Za-z0-9]$")


def money(amount: Decimal | float) -> str:
    """$37.50: how a letter writes an amount in dollars."""
    return f"${Decimal(str(amount)).quantize(Decimal('0.01')):,}"


def template_file(name: str) -> str:
    """`fee_approval` or `fee_approval.txt.j2`: the file under rules/templates/."""
    name = name.strip()
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ReviewError(f"template {name!r}: give a template name from rules/templates/ (e.g. clarification_answer)")
    return name if name.endswith(".j2") else f"{name}.txt.j2"


def quoted_fee(item: ReviewItem) -> str | None:
    """The largest amount the agency quoted, as the pipeline stored it with the item; None when it named none."""
    amounts: list[Decimal] = []
    for entry in item.suggestions or []:
        if isinstance(entry, dict) and entry.get("amount") is not None:
            try:
                amounts.append(Decimal(str(entry["amount"])))
            except ArithmeticError:
                continue
    return money(max(amounts)) if amounts else None


def item_for(session: Session, item_id: int, action: str) -> tuple[ReviewItem, Request]:
    """The open item and its request, or ReviewError when the item is decided, has no request, or is the wrong kind."""
    item = open_item(session, item_id)
    fits = _FITS[action]
    if item.kind not in fits:
        raise ReviewError(f"item {item.id} is a {item.kind} item; {action} answers {' or '.join(fits)} items")
    request = item_request(session, item)
    if request is None:
        raise ReviewError(f"item {item.id} has no request; attach it first")
    return item, request


@dataclass(frozen=True)
class Draft:
    """A letter shown to the operator before anything is queued: its text and where it would go."""

    item_id: int
    reference: str
    agency_name: str
    to: tuple[str, ...]
    text: str


def draft(
    session: Session, item_id: int, action: str, template: str, variables: Mapping[str, Any], *,
    settings: Settings, now: dt.datetime,
) -> Draft:
    """The letter an answer would send, for the operator to read or edit before anything is queued."""
    item, request = item_for(session, item_id, action)
    facts = thread_facts(session, request, settings, now)
    if facts is None:
        raise ReviewError(f"{request.agency.name} has no email address; answer request {request.reference} by hand")
    given = {"quoted": quoted_fee(item), **variables} if item.kind == "fee" else dict(variables)
    try:
        text = letter_text(facts, template_file(template), given, settings)
    except ThreadLetterError as exc:
        raise ReviewError(str(exc)) from None
    return Draft(item.id, request.reference, request.agency.name, facts.to, text)


def approve_fee(
    session: Session, item_id: int, *, text: str, up_to: Decimal | None, operator: str, settings: Settings,
    now: dt.datetime,
) -> ActionResult:
    """We pay (up to `up_to`, or the invoice as quoted): the letter goes, and the request waits for records."""
    item, request = item_for(session, item_id, "approve-fee")
    detail = {"up_to": str(up_to) if up_to is not None else None, "quoted": quoted_fee(item)}
    return _answer(session, item, request, "approve-fee", "fee_approved", text, operator, settings, now, detail)


def narrow(session: Session, item_id: int, *, text: str, operator: str, settings: Settings, now: dt.datetime) -> ActionResult:
    """We ask for less so the fee falls; the agency owes us a new estimate or the records."""
    item, request = item_for(session, item_id, "narrow")
    return _answer(session, item, request, "narrow", "narrowed", text, operator, settings, now, {})


def reply(session: Session, item_id: int, *, text: str, operator: str, settings: Settings, now: dt.datetime,
          template: str | None = None) -> ActionResult:
    """Our own words to a question (the clock then runs as the statute says) or to a fee notice."""
    item, request = item_for(session, item_id, "reply")
    # "Yes, still interested" written from its template asks nothing new of the agency: no clock change.
    confirms = template is not None and item.kind == "clarification" and template_file(template) == CONFIRM_INTEREST
    trigger = "interest_confirmed" if confirms else _REPLY_TRIGGER[item.kind]
    return _answer(session, item, request, "reply", trigger, text, operator, settings, now, {"template": template})


def confirm_interest(session: Session, item_id: int, *, text: str, operator: str, settings: Settings,
                     now: dt.datetime) -> ActionResult:
    """Yes, we still want the records; the agency goes on with the request and its clock is untouched."""
    item, request = item_for(session, item_id, "confirm-interest")
    return _answer(session, item, request, "confirm-interest", "interest_confirmed", text, operator, settings, now, {})


def decline_fee(session: Session, item_id: int, *, operator: str, settings: Settings, now: dt.datetime) -> ActionResult:
    """We will not pay: the request is withdrawn through filing, which tells the agency in the thread."""
    item, request = item_for(session, item_id, "decline-fee")
    if not states.can(request.state, "withdraw"):
        raise ReviewError(f"request {request.reference} is {request.state}; it cannot be withdrawn")
    _claim(session, item, operator, now)
    done = withdraw(session, request, settings=settings, actor=operator, reason=f"fee declined in review item {item.id}",
                    notice_reason=DECLINE_REASON, now=now)
    detail: dict[str, Any] = {
        "quoted": quoted_fee(item),
        "outbox_id": done.notice_id if done is not None else None,
        "message_id": done.notice_message_id if done is not None else None,
        "no_notice": done.no_notice if done is not None else "already closed",
    }
    record_event(session, item, "review_answered", operator, now, {"answer": "decline-fee", **detail})
    return action_result(item, "decline-fee", request, detail)


def record_portal(session: Session, item_id: int, number: str, *, operator: str, settings: Settings,
                  now: dt.datetime) -> ActionResult:
    """We filed through the agency's portal as `number`: matching learns it, and the request waits on the agency.

    No letter: the agency asked for its portal instead of mail, and the portal already told it."""
    number = number.strip()
    if not _PORTAL_NUMBER.match(number):
        raise ReviewError(f"portal number {number!r}: letters, digits and - . / # : only, up to 100 characters")
    item, request = item_for(session, item_id, "portal")
    if not learn_tracking_numbers(session, request, [number], now):
        raise ReviewError(f"{number} is already the agency's number for another request; check the number")
    _claim(session, item, operator, now)
    detail = {"tracking_number": number, "note": f"filed through the portal as {number}"}
    record_event(session, item, "review_answered", operator, now, {"answer": "portal", **detail})
    _move(session, request, "portal_filed", operator, now, settings, {"review_item": item.id, **detail})
    return action_result(item, "portal", request, detail)


def _answer(
    session: Session, item: ReviewItem, request: Request, action: str, trigger: str, text: str, operator: str,
    settings: Settings, now: dt.datetime, detail: dict[str, Any],
) -> ActionResult:
    """Queue the letter, close the item, move the state: one transaction, so the letter exists once or not at all."""
    if not text.strip():
        raise ReviewError("the letter is empty; nothing sent")
    _claim(session, item, operator, now)
    try:
        row = queue_thread_letter(session, request, kind="reply", settings=settings, now=now, text=text)
    except ThreadLetterError as exc:
        raise ReviewError(str(exc)) from None
    info: dict[str, Any] = {**detail, "answer": action, "outbox_id": row.id, "message_id": row.message_id}
    if trigger == "clarified":
        info["clock"] = _clock_after_answer(session, request, item, settings, now)
    record_event(session, item, "review_answered", operator, now, info)
    _move(session, request, trigger, operator, now, settings, {"review_item": item.id, "outbox_id": row.id})
    return action_result(item, action, request, info)


def _claim(session: Session, item: ReviewItem, operator: str, now: dt.datetime) -> None:
    """Close the item with a conditional UPDATE: of two operators answering at once, only one writes a letter."""
    result = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item.id, ReviewItem.state != "done")
        .values(state="done", resolved_by=operator, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.refresh(item)
        raise ReviewError(f"item {item.id} was already decided by {item.resolved_by or 'someone'}")
    item.state, item.resolved_by, item.resolved_at = "done", operator, now


def _move(session: Session, request: Request, trigger: str, operator: str, now: dt.datetime, settings: Settings,
          detail: dict[str, Any]) -> None:
    """Through the state machine; where the request has moved on since (an extension came), the answer is noted."""
    if states.can(request.state, trigger):
        lifecycle.fire(session, request, trigger, cause="operator", actor=operator, detail=detail, now=now,
                       rules_dir=settings.rules_path)
    else:
        lifecycle.record_event(session, request, "answered", cause="operator", actor=operator,
                               detail={**detail, "trigger": trigger}, from_state=request.state,
                               to_state=request.state, now=now)


def _clock_after_answer(session: Session, request: Request, item: ReviewItem, settings: Settings,
                        now: dt.datetime) -> dict[str, Any]:
    """Restart, toll or keep the legal clock as the request's statute says; what changed goes in the event."""
    zone = settings.schedule.timezone
    message = session.get(Message, item.message_row_id) if item.message_row_id else None
    asked_at = (as_utc(message.sent_date) or as_utc(message.received_at)) if message is not None else None
    answered_on = local_today(zone, now)
    asked_on = local_date(asked_at, zone) or local_date(item.created_at, zone) or answered_on
    statute = statute_for(request.jurisdiction, settings.rules_path)
    before = {"clock_start": request.clock_start, "due": request.due_date, "extended_due": request.extended_due}
    after = clock_after_clarification(
        statute, calendar_for(settings.rules_path), clock_start=request.clock_start, due=request.due_date,
        extended_due=request.extended_due, asked_on=asked_on, answered_on=answered_on,
    )
    request.clock_start, request.due_date = after.clock_start, after.due
    request.extended_due = after.extended_due
    return {
        "rule": statute.clarification, "basis": after.basis, "citation": statute.citation,
        "before": {k: v.isoformat() if v else None for k, v in before.items()},
        "due": after.due.isoformat() if after.due else None,
    }
