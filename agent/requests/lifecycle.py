"""Every change to a request's state goes through here, so each one is legal and leaves an Event with its cause."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from agent.db.models import Event, Message, Request
from agent.followups.policy import STREAK_FLAG, load_policy, next_action_date
from agent.requests import states
from agent.requests.clock import calendar_for, rules_or_default, statutory_deadline
from agent.requests.states import IllegalTransition

Cause = Literal["message", "operator", "timer", "system"]
CAUSES: tuple[str, ...] = ("message", "operator", "timer", "system")

__all__ = ["IllegalTransition", "fire", "set_state", "mark_sent", "reschedule", "record_event", "set_flag"]


def record_event(
    session: Session,
    request: Request,
    kind: str,
    *,
    cause: Cause,
    actor: str | None,
    detail: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    message: Message | None = None,
    now: dt.datetime | None = None,
) -> Event:
    """Append one audit event; the caller's transaction commits it together with the change it describes."""
    if cause not in CAUSES:
        raise ValueError(f"unknown cause {cause!r}; expected one of {', '.join(CAUSES)}")
    if message is not None and message.id is None:
        session.flush()
    event = Event(
        request_id=request.id,
        message_row_id=message.id if message is not None else None,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        cause=cause,
        actor=actor,
        detail=dict(detail or {}),
    )
    if now is not None:
        event.created_at = now
    session.add(event)
    return event


def reschedule(request: Request, rules_dir: Path | None = None) -> dt.date | None:
    """Recompute next_action_date from the policy: the only writer of that column besides the scan."""
    rules = rules_or_default(rules_dir)
    request.next_action_date = next_action_date(request, load_policy(rules), calendar_for(rules))
    return request.next_action_date


def set_flag(request: Request, key: str, value: Any) -> None:
    # A JSON column notices changes only when the whole value is reassigned.
    flags = dict(request.flags or {})
    flags[key] = value
    request.flags = flags


def _move(
    session: Session,
    request: Request,
    new_state: str,
    *,
    trigger: str | None,
    cause: Cause,
    actor: str | None,
    detail: dict[str, Any] | None,
    message: Message | None,
    now: dt.datetime | None,
    rules_dir: Path | None,
) -> Event:
    old = request.state
    info = dict(detail or {})
    if trigger is not None:
        info["trigger"] = trigger
    request.state = new_state
    if cause == "operator":
        # A person has looked at the request: reminders start counting again from zero.
        set_flag(request, STREAK_FLAG, 0)
    reschedule(request, rules_dir)
    kind = "state_change" if new_state != old else "noted"
    return record_event(
        session, request, kind, cause=cause, actor=actor, detail=info,
        from_state=old, to_state=new_state, message=message, now=now,
    )


def fire(
    session: Session,
    request: Request,
    trigger: str,
    *,
    cause: Cause,
    actor: str | None,
    detail: dict[str, Any] | None = None,
    message: Message | None = None,
    now: dt.datetime | None = None,
    rules_dir: Path | None = None,
) -> Event:
    """Apply a named trigger (a label, a timer, an operator action) through the transition table."""
    if not states.cause_may_fire(cause, trigger):
        raise IllegalTransition(f"a {cause} may not trigger {trigger!r}")
    new_state = states.target(request.state, trigger)
    return _move(
        session, request, new_state, trigger=trigger, cause=cause, actor=actor,
        detail=detail, message=message, now=now, rules_dir=rules_dir,
    )


def set_state(
    session: Session,
    request: Request,
    new_state: str,
    *,
    cause: Cause,
    actor: str | None,
    detail: dict[str, Any] | None = None,
    message: Message | None = None,
    now: dt.datetime | None = None,
    rules_dir: Path | None = None,
) -> Event:
    """Move to a named state. An operator may set any state; anything else must be a move the table allows."""
    if new_state not in states.STATES:
        raise IllegalTransition(f"unknown state {new_state!r}; expected one of {', '.join(states.STATES)}")
    if cause != "operator" and new_state != request.state and not states.is_direct_move_allowed(request.state, new_state, cause):
        raise IllegalTransition(f"cannot move from {request.state!r} to {new_state!r} ({cause})")
    return _move(
        session, request, new_state, trigger=None, cause=cause, actor=actor,
        detail=detail, message=message, now=now, rules_dir=rules_dir,
    )


def mark_sent(
    session: Session,
    request: Request,
    now: dt.datetime,
    *,
    rules_dir: Path | None = None,
    actor: str = "outbox",
    timezone: str | None = None,
) -> Event | None:
    """The request letter left: start the legal clock and schedule the first follow-up.

    Mail arrives within minutes, so the day we send is the day the agency receives it: statutes that
    count from receipt and those that count from sending start on the same date.
    """
    if request.filed_at is not None and request.state not in ("draft", "queued"):
        return None  # already recorded (a reconciled resend must not restart the clock)
    request.filed_at = now
    # The agency's day, not UTC's: a letter sent at 5 p.m. in California is received that same day.
    request.clock_start = now.astimezone(ZoneInfo(timezone)).date() if timezone else now.date()
    deadline = statutory_deadline(request.jurisdiction, request.clock_start, rules_dir)
    request.due_date = deadline.due
    set_flag(request, STREAK_FLAG, 0)
    detail = {"due": deadline.due.isoformat(), "basis": deadline.basis, "citation": deadline.citation}
    if states.can(request.state, "mail_sent"):
        return fire(session, request, "mail_sent", cause="system", actor=actor, detail=detail, now=now, rules_dir=rules_dir)
    reschedule(request, rules_dir)
    return record_event(session, request, "clock_started", cause="system", actor=actor, detail=detail, now=now)
