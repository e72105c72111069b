"""What an operator decides on a review item; every decision is an Event with cause "operator" and their name."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.config import Settings
from agent.db.models import Event, Message, Request, ReviewItem
from agent.filing.requests import withdraw
from agent.inbound.process import learn_tracking_numbers
from agent.operators import corrections
from agent.operators.clock import as_utc
from agent.operators.queries import NotFound, find_request, suggestions
from agent.operators.vocab import all_states, is_label
from agent.pipeline.apply import apply_message
from agent.pipeline.stage_data import Fee, Understanding
from agent.requests import appeals, lifecycle, states
from agent.requests.states import IllegalTransition

ACTIONS = ("confirm", "dismiss", "relabel", "attach", "set-state", "note", "skip")
# Items about who sent a message: confirming one vouches for the sender (or the bounce), not for a label.
_SENDER_ITEMS = frozenset({"unknown_sender", "bounce", "suspect_bounce", "spoof"})
# An appeal may be filed (agent appeal send) or let pass (dismiss); "confirm" would not say which.
_APPEAL_ITEMS = frozenset({appeals.OFFER_ITEM, "appeal_deadline"})


class ReviewError(ValueError):
    """The action does not fit the item (already done, no request to act on, unknown label or state)."""


@dataclass(frozen=True)
class ActionResult:
    item_id: int
    action: str
    item_state: str
    request: str | None  # our reference, when the item is tied to a request
    request_state: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "item": self.item_id,
            "action": self.action,
            "item_state": self.item_state,
            "request": self.request,
            "request_state": self.request_state,
            "detail": self.detail,
        }


def default_operator() -> str:
    """$USER, else the login name, else a plain word: an event always has someone to answer for it."""
    name = os.environ.get("USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def load_item(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}")
    return item


def confirm(session: Session, item_id: int, *, operator: str, now: dt.datetime, rules_dir: Path) -> ActionResult:
    """Accept what the agent proposed: its label for a doubtful message, its best suggestion for an orphan."""
    item = open_item(session, item_id)
    message = _message(session, item)
    request = item_request(session, item)
    if item.kind in _APPEAL_ITEMS and request is not None:
        # Filing an appeal writes to the agency: its own command shows the letter first (agent/commands/appeal.py).
        raise ReviewError(f"item {item.id}: file the appeal with `agent appeal send {request.reference}`, "
                          "or dismiss the item to let it pass")
    if item.kind in ("orphan", "spoof") and request is None:
        ref = _top_suggestion(session, item)
        if ref is None:
            raise ReviewError(f"item {item.id} is an orphan without suggestions; use `attach ITEM REF`")
        return attach(session, item_id, ref, operator=operator, now=now, rules_dir=rules_dir, action="confirm")
    relabels = item.kind == "low_confidence" and message is not None and bool(message.label) and request is not None
    detail: dict[str, Any] = {"label": message.label} if relabels and message is not None else {}
    record_event(session, item, "review_confirmed", operator, now, detail)
    vouches_label = item.kind not in _SENDER_ITEMS
    if (vouches_label and message is not None and message.label and message.direction == "in"
            and message.kind in (None, "reply")):
        # The operator vouched for the label: the next reply in this template need not wait for them.
        corrections.record(
            session, message, label=message.label, previous_label=message.label,
            previous_confidence=message.confidence, action="confirm", operator=operator,
            agency_id=request.agency_id if request is not None else None, now=now,
        )
    _decide(item, operator, now)
    if request is not None:
        if item.kind == "unknown_sender" and message is not None:
            _vouch_for_sender(session, request, message, operator=operator, now=now, rules_dir=rules_dir)
        elif item.kind == "bounce":
            _mark_undeliverable(session, request, item, operator=operator, now=now, rules_dir=rules_dir)
        elif relabels and message is not None and message.label:
            message.confidence = 1.0
            message.status = "processed"
            _reapply(session, request, message, message.label, 1.0, operator=operator, now=now, rules_dir=rules_dir)
        else:
            _leave_review(session, request, operator=operator, now=now, rules_dir=rules_dir)
    return action_result(item, "confirm", request, detail)


def dismiss(session: Session, item_id: int, *, operator: str, now: dt.datetime, rules_dir: Path) -> ActionResult:
    """Close the item without doing what it proposes: the request stays as the message found it.

    For an unknown sender or a forged-looking bounce this is "not the agency": the message stays in the
    thread for the record, but it never counts as the agency's words (see agent.pipeline.thread_context)."""
    item = open_item(session, item_id)
    request = item_request(session, item)
    record_event(session, item, "review_dismissed", operator, now, {})
    _decide(item, operator, now)
    if request is not None and item.kind in _APPEAL_ITEMS:
        appeals.decline(session, request, operator=operator, now=now)  # no appeal: its window reminder stops too
    if request is not None:
        _leave_review(session, request, operator=operator, now=now, rules_dir=rules_dir)
    return action_result(item, "dismiss", request, {})


def relabel(
    session: Session, item_id: int, label: str, *, operator: str, now: dt.datetime, rules_dir: Path
) -> ActionResult:
    """Correct the label of the item's message and let the request follow the corrected label."""
    if not is_label(label):
        raise ReviewError(f"unknown label {label!r}")
    item = open_item(session, item_id)
    message = _message(session, item)
    if message is None:
        raise ReviewError(f"item {item.id} has no message to relabel")
    detail = {"from_label": message.label, "to_label": label, "from_confidence": message.confidence}
    request = item_request(session, item)
    corrections.record(
        session, message, label=label, previous_label=message.label, previous_confidence=message.confidence,
        action="relabel", operator=operator, agency_id=request.agency_id if request is not None else None, now=now,
    )
    message.label = label
    message.confidence = 1.0
    record_event(session, item, "review_relabel", operator, now, detail)
    if request is None:
        # An orphan keeps waiting for a request; the corrected label applies when it is attached.
        return action_result(item, "relabel", None, detail)
    message.status = "processed"
    _decide(item, operator, now)
    _reapply(session, request, message, label, 1.0, operator=operator, now=now, rules_dir=rules_dir)
    return action_result(item, "relabel", request, detail)


def attach(
    session: Session,
    item_id: int,
    ref: str,
    *,
    operator: str,
    now: dt.datetime,
    rules_dir: Path,
    action: str = "attach",
) -> ActionResult:
    """File an orphan (or mis-matched) message under a request, then let its label act there."""
    item = open_item(session, item_id)
    message = _message(session, item)
    if message is None:
        raise ReviewError(f"item {item.id} has no message to attach")
    request = find_request(session, ref)
    detail = {"from_request": message.request_id, "to_request": request.id, "reference": request.reference}
    message.request_id = request.id
    message.status = "processed"
    message.match_evidence = list(message.match_evidence or []) + [
        {"kind": "operator", "request_id": request.id, "detail": f"attached by {operator}"}
    ]
    item.request_id = request.id
    session.flush()
    record_event(session, item, "review_confirmed" if action == "confirm" else "review_attach", operator, now, detail)
    _decide(item, operator, now)
    if message.label:
        # The operator vouched for the request, not the label: a doubtful label still goes to review.
        _reapply(session, request, message, message.label, message.confidence, operator=operator, now=now,
                 rules_dir=rules_dir)
    return action_result(item, action, request, detail)


def set_state(
    session: Session,
    item_id: int,
    state: str,
    *,
    operator: str,
    now: dt.datetime,
    rules_dir: Path | None = None,
    settings: Settings | None = None,
) -> ActionResult:
    """Put the item's request in a state the operator chose, whatever the mail said.

    "withdrawn" with settings given goes through the filing path, so an agency that has our letter is told
    (the usual case: a fee we decline to pay) and mail still queued is cancelled."""
    if state not in all_states():
        raise ReviewError(f"unknown state {state!r} (one of: {', '.join(all_states())})")
    item = open_item(session, item_id)
    request = item_request(session, item)
    if request is None:
        raise ReviewError(f"item {item.id} has no request; attach it first")
    detail: dict[str, Any] = {"from_state": request.state, "to_state": state}
    record_event(session, item, "review_set_state", operator, now, detail)
    _decide(item, operator, now)
    if state == "withdrawn" and settings is not None and states.can(request.state, "withdraw"):
        done = withdraw(session, request, settings=settings, actor=operator, reason=f"review item {item.id}",
                        now=now, rules_dir=rules_dir)
        if done is not None:
            detail = {**detail, "withdrawal_notice_outbox_id": done.notice_id, "no_notice": done.no_notice}
        return action_result(item, "set-state", request, detail)
    change_state(session, request, state, operator=operator, detail={"review_item": item.id}, now=now,
                 rules_dir=rules_dir)
    return action_result(item, "set-state", request, detail)


def note(session: Session, item_id: int, text: str, *, operator: str, now: dt.datetime) -> ActionResult:
    """Leave a remark on the item's request or message; the item stays where it is."""
    text = text.strip()
    if not text:
        raise ReviewError("a note needs some text")
    item = load_item(session, item_id)
    detail = {"text": text}
    record_event(session, item, "note", operator, now, detail)
    return action_result(item, "note", item_request(session, item), detail)


def skip(session: Session, item_id: int, *, operator: str, now: dt.datetime) -> ActionResult:
    """Not now: the item goes to the back of the queue, after every open one."""
    item = open_item(session, item_id)
    item.state = "skipped"
    record_event(session, item, "review_skip", operator, now, {})
    return action_result(item, "skip", item_request(session, item), {})


def change_state(
    session: Session,
    request: Request,
    state: str,
    *,
    operator: str,
    detail: dict[str, Any],
    now: dt.datetime,
    rules_dir: Path | None = None,
) -> None:
    """Through the state machine, which lets an operator set any state and writes the state_change event."""
    if request.state == state:
        return
    lifecycle.set_state(
        session, request, state, cause="operator", actor=operator, detail=detail, now=now, rules_dir=rules_dir
    )


def _reapply(
    session: Session,
    request: Request,
    message: Message,
    label: str,
    confidence: float | None,
    *,
    operator: str,
    now: dt.datetime,
    rules_dir: Path,
) -> None:
    """Let the pipeline's apply stage redo what the (confirmed or corrected) label means: state, dates, review."""
    replied = as_utc(request.last_reply_at)
    kind = message.kind if message.kind in ("reply", "auto_reply", "bounce") else "reply"
    try:
        apply_message(
            session,
            request=request,
            message=message,
            understanding=_understanding(message, label, confidence),
            kind=kind,
            now=now,
            rules_dir=rules_dir,
        )
    except IllegalTransition as exc:
        raise ReviewError(f"{request.reference}: {exc}; use `set-state` to put it where it belongs") from None
    # apply stamps "last reply" with its clock; the agency replied when the message came, not when we decided.
    came = as_utc(message.sent_date) or as_utc(message.received_at)
    request.last_reply_at = max(d for d in (replied, came) if d is not None) if (replied or came) else None
    _leave_review(session, request, operator=operator, now=now, rules_dir=rules_dir)


def _leave_review(
    session: Session, request: Request, *, operator: str, now: dt.datetime, rules_dir: Path | None
) -> None:
    """A request held in needs_review goes back where it was once nothing about it is left undecided."""
    if request.state != "needs_review":
        return
    session.flush()
    pending = session.scalar(
        select(func.count()).select_from(ReviewItem).where(ReviewItem.request_id == request.id, ReviewItem.state == "open")
    )
    if pending:
        return
    before = session.scalars(
        select(Event.from_state)
        .where(Event.request_id == request.id, Event.to_state == "needs_review", Event.from_state != "needs_review")
        .order_by(Event.id.desc())
    ).first()
    if before and before in states.STATES:
        change_state(session, request, before, operator=operator, detail={"review": "decided"}, now=now,
                     rules_dir=rules_dir)


def _vouch_for_sender(
    session: Session, request: Request, message: Message, *, operator: str, now: dt.datetime, rules_dir: Path
) -> None:
    """A person says the unknown sender speaks for the agency: the held message now acts as its answer, once.

    State, dates and fees follow its reading (a doubtful reading still goes to review, as it would have from a
    known address), and the tracking numbers it quotes are learned for the request."""
    message.status = "processed"
    message.match_evidence = list(message.match_evidence or []) + [
        {"kind": "operator", "request_id": request.id, "detail": f"sender vouched for by {operator}"}
    ]
    numbers = [str(n) for n in (message.facts or {}).get("tracking_numbers") or ()]
    learn_tracking_numbers(session, request, numbers, now)
    if message.kind in (None, "reply") and message.label:
        _reapply(session, request, message, message.label, message.confidence, operator=operator, now=now,
                 rules_dir=rules_dir)
    else:
        _leave_review(session, request, operator=operator, now=now, rules_dir=rules_dir)


def _mark_undeliverable(
    session: Session, request: Request, item: ReviewItem, *, operator: str, now: dt.datetime, rules_dir: Path
) -> None:
    """What a confirmed bounce proposed: our mail does not reach the agency, so nothing more is sent."""
    lifecycle.set_flag(request, "undeliverable", True)
    if states.can(request.state, "bounce"):
        lifecycle.fire(session, request, "bounce", cause="operator", actor=operator, detail={"review_item": item.id},
                       now=now, rules_dir=rules_dir)


def _understanding(message: Message, label: str, confidence: float | None) -> Understanding:
    """What the operator vouched for, in the shape apply_message takes: full confidence, the stored facts."""
    facts = message.facts or {}
    expected = facts.get("expected_date")
    try:
        expected_date = dt.date.fromisoformat(str(expected)[:10]) if expected else None
    except ValueError:
        expected_date = None
    return Understanding(
        label=label,
        confidence=1.0 if confidence is None else confidence,
        rules=tuple(str(r) for r in message.rule_hits or ()) + ("operator",),
        cleaned_text=message.cleaned_text or "",
        expected_date=expected_date,
        tracking_numbers=tuple(str(t) for t in facts.get("tracking_numbers") or ()),
        fees=tuple(_fees(facts.get("fees"))),
        links=tuple(str(x) for x in facts.get("links") or ()),
        records_attached=bool(facts.get("records_attached")),
    )


def _fees(stored: object) -> list[Fee]:
    """Fees as the pipeline stored them in Message.facts, so a confirmed fee keeps its amount."""
    fees: list[Fee] = []
    for entry in stored if isinstance(stored, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            amount = float(entry.get("amount"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        kind = entry.get("kind")
        fees.append(Fee(amount=amount, currency=str(entry.get("currency") or "USD"),
                        kind=kind if kind in ("fee", "deposit", "estimate") else "fee", text=str(entry.get("text") or "")))
    return fees


def open_item(session: Session, item_id: int) -> ReviewItem:
    """The item, if nobody decided it yet: every action (here and in replies.py) starts from this check."""
    item = load_item(session, item_id)
    if item.state == "done":
        raise ReviewError(f"item {item.id} was already decided by {item.resolved_by or 'someone'}")
    return item


def _message(session: Session, item: ReviewItem) -> Message | None:
    return session.get(Message, item.message_row_id) if item.message_row_id else None


def item_request(session: Session, item: ReviewItem) -> Request | None:
    """The request an item is about: its own, or its message's."""
    if item.request_id:
        return session.get(Request, item.request_id)
    message = _message(session, item)
    if message is not None and message.request_id:
        return session.get(Request, message.request_id)
    return None


def _top_suggestion(session: Session, item: ReviewItem) -> str | None:
    ranked = suggestions(session, item)
    return ranked[0].reference if ranked else None


def record_event(session: Session, item: ReviewItem, kind: str, operator: str, now: dt.datetime, detail: dict[str, Any]) -> None:
    """The operator's decision in the request's history (cause "operator", their name)."""
    request_id = item.request_id
    if request_id is None and item.message_row_id:
        message = session.get(Message, item.message_row_id)
        request_id = message.request_id if message else None
    session.add(
        Event(
            request_id=request_id,
            message_row_id=item.message_row_id,
            kind=kind,
            cause="operator",
            actor=operator,
            detail={"review_item": item.id, "review_kind": item.kind, **detail},
            created_at=now,
        )
    )


def _decide(item: ReviewItem, operator: str, now: dt.datetime) -> None:
    # Decided before the request is re-evaluated, so the request no longer counts it as pending.
    item.state = "done"
    item.resolved_by = operator
    item.resolved_at = now


def action_result(item: ReviewItem, action: str, request: Request | None, detail: dict[str, Any]) -> ActionResult:
    return ActionResult(
        item.id, action, item.state, request.reference if request else None, request.state if request else None, detail
    )
