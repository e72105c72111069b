"""What an operator decides on a review item; every decision is an Event with cause "operator" and their name."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from agent.db.models import Event, Message, Request, ReviewItem
from agent.operators.queries import NotFound, find_request
from agent.operators.vocab import LABEL_STATE, all_states, is_label

ACTIONS = ("confirm", "relabel", "attach", "set-state", "note", "skip")


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
    item = _open_item(session, item_id)
    message = _message(session, item)
    detail: dict[str, Any] = {}
    if item.kind == "orphan" and _request(session, item) is None:
        ref = _top_suggestion(item)
        if ref is None:
            raise ReviewError(f"item {item.id} is an orphan without suggestions; use `attach ITEM REF`")
        return attach(session, item_id, ref, operator=operator, now=now, rules_dir=rules_dir, action="confirm")
    request = _request(session, item)
    if item.kind == "low_confidence" and message is not None and message.label and request is not None:
        message.confidence = 1.0
        message.status = "processed"
        detail["label"] = message.label
        _reapply(session, request, message, message.label, operator=operator, now=now, rules_dir=rules_dir)
    _event(session, item, "review_confirmed", operator, now, detail)
    return _resolve(item, "confirm", request, operator, now, detail)


def relabel(
    session: Session, item_id: int, label: str, *, operator: str, now: dt.datetime, rules_dir: Path
) -> ActionResult:
    """Correct the label of the item's message and let the request follow the corrected label."""
    if not is_label(label):
        raise ReviewError(f"unknown label {label!r}")
    item = _open_item(session, item_id)
    message = _message(session, item)
    if message is None:
        raise ReviewError(f"item {item.id} has no message to relabel")
    detail = {"from_label": message.label, "to_label": label, "from_confidence": message.confidence}
    message.label = label
    message.confidence = 1.0
    request = _request(session, item)
    _event(session, item, "review_relabel", operator, now, detail)
    if request is None:
        # An orphan keeps waiting for a request; the corrected label applies when it is attached.
        return ActionResult(item.id, "relabel", item.state, None, None, detail)
    message.status = "processed"
    _reapply(session, request, message, label, operator=operator, now=now, rules_dir=rules_dir)
    return _resolve(item, "relabel", request, operator, now, detail)


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
    """File an orphan (or mis-matched) message under a request, then apply its label there."""
    item = _open_item(session, item_id)
    message = _message(session, item)
    if message is None:
        raise ReviewError(f"item {item.id} has no message to attach")
    request = find_request(session, ref)
    detail = {"from_request": message.request_id, "to_request": request.id, "reference": request.reference}
    message.request_id = request.id
    message.status = "processed"
    message.match_evidence = list(message.match_evidence or []) + [
        {"kind": "operator", "value": request.reference, "by": operator}
    ]
    item.request_id = request.id
    session.flush()
    _event(session, item, f"review_{action}" if action != "attach" else "review_attach", operator, now, detail)
    if message.label and message.kind not in ("auto_reply", "bounce"):
        _reapply(session, request, message, message.label, operator=operator, now=now, rules_dir=rules_dir)
    return _resolve(item, action, request, operator, now, detail)


def set_state(session: Session, item_id: int, state: str, *, operator: str, now: dt.datetime) -> ActionResult:
    """Put the item's request in a state the operator chose, whatever the mail said."""
    if state not in all_states():
        raise ReviewError(f"unknown state {state!r} (one of: {', '.join(all_states())})")
    item = _open_item(session, item_id)
    request = _request(session, item)
    if request is None:
        raise ReviewError(f"item {item.id} has no request; attach it first")
    detail = {"from_state": request.state, "to_state": state}
    _event(session, item, "review_set_state", operator, now, detail)
    change_state(session, request, state, operator=operator, detail={"review_item": item.id}, now=now)
    return _resolve(item, "set-state", request, operator, now, detail)


def note(session: Session, item_id: int, text: str, *, operator: str, now: dt.datetime) -> ActionResult:
    """Leave a remark on the item's request or message; the item stays where it is."""
    text = text.strip()
    if not text:
        raise ReviewError("a note needs some text")
    item = load_item(session, item_id)
    detail = {"text": text}
    _event(session, item, "note", operator, now, detail)
    request = _request(session, item)
    return ActionResult(item.id, "note", item.state, request.reference if request else None,
                        request.state if request else None, detail)


def skip(session: Session, item_id: int, *, operator: str, now: dt.datetime) -> ActionResult:
    """Not now: the item goes to the back of the queue, after every open one."""
    item = _open_item(session, item_id)
    item.state = "skipped"
    _event(session, item, "review_skip", operator, now, {})
    request = _request(session, item)
    return ActionResult(item.id, "skip", item.state, request.reference if request else None,
                        request.state if request else None, {})


def change_state(
    session: Session, request: Request, state: str, *, operator: str, detail: dict[str, Any], now: dt.datetime
) -> None:
    """Through the state machine's set_state when installed, so its rules and events apply; else directly."""
    if request.state == state:
        return
    try:
        from agent.requests.lifecycle import set_state as machine_set_state
    except ImportError as exc:
        if exc.name not in (None, "agent.requests.lifecycle"):
            raise
        machine_set_state = None
    if machine_set_state is not None:
        machine_set_state(session, request, state, cause="operator", actor=operator, detail=detail)
        return
    session.add(
        Event(
            request_id=request.id,
            kind="state_change",
            from_state=request.state,
            to_state=state,
            cause="operator",
            actor=operator,
            detail=detail,
            created_at=now,
        )
    )
    request.state = state


def _reapply(
    session: Session, request: Request, message: Message, label: str, *, operator: str, now: dt.datetime, rules_dir: Path
) -> None:
    """Let the deadlines engine redo what the label means (dates, state, review); fall back to the plain mapping."""
    try:
        from agent.pipeline.apply import apply_message
    except ImportError as exc:
        if exc.name not in (None, "agent.pipeline.apply"):
            raise
        apply_message = None
    if apply_message is not None:
        kind = message.kind if message.kind in ("reply", "auto_reply", "bounce") else "reply"
        apply_message(
            session,
            request=request,
            message=message,
            understanding=_understanding(message, label),
            kind=kind,
            now=now,
            rules_dir=rules_dir,
        )
        return
    target = LABEL_STATE.get(label)
    if target:
        change_state(session, request, target, operator=operator, detail={"message": message.id, "label": label}, now=now)


def _understanding(message: Message, label: str) -> Any:
    """What the operator vouched for, in the shape apply_message takes: full confidence, the stored facts."""
    from agent.pipeline.types import Understanding

    facts = message.facts or {}
    expected = facts.get("expected_date")
    try:
        expected_date = dt.date.fromisoformat(str(expected)[:10]) if expected else None
    except ValueError:
        expected_date = None
    return Understanding(
        label=label,
        confidence=1.0,
        rules=("operator",),
        cleaned_text=message.cleaned_text or "",
        expected_date=expected_date,
        tracking_numbers=tuple(str(t) for t in facts.get("tracking_numbers") or ()),
        links=tuple(str(x) for x in facts.get("links") or ()),
        records_attached=bool(facts.get("records_attached")),
    )


def _open_item(session: Session, item_id: int) -> ReviewItem:
    item = load_item(session, item_id)
    if item.state == "done":
        raise ReviewError(f"item {item.id} was already decided by {item.resolved_by or 'someone'}")
    return item


def _message(session: Session, item: ReviewItem) -> Message | None:
    return session.get(Message, item.message_row_id) if item.message_row_id else None


def _request(session: Session, item: ReviewItem) -> Request | None:
    if item.request_id:
        return session.get(Request, item.request_id)
    message = _message(session, item)
    if message is not None and message.request_id:
        return session.get(Request, message.request_id)
    return None


def _top_suggestion(item: ReviewItem) -> str | None:
    """Suggestions are ranked best first; each names a request by reference or id."""
    for s in item.suggestions or []:
        if isinstance(s, dict):
            ref = s.get("reference") or s.get("request_id") or s.get("id")
        else:
            ref = s
        if ref is not None:
            return str(ref)
    return None


def _event(session: Session, item: ReviewItem, kind: str, operator: str, now: dt.datetime, detail: dict[str, Any]) -> None:
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


def _resolve(
    item: ReviewItem, action: str, request: Request | None, operator: str, now: dt.datetime, detail: dict[str, Any]
) -> ActionResult:
    item.state = "done"
    item.resolved_by = operator
    item.resolved_at = now
    return ActionResult(
        item.id, action, item.state, request.reference if request else None, request.state if request else None, detail
    )
