"""The deadline timer: find requests whose next action is due, queue a follow-up or escalate, move the date on."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.compose.followup import FollowupFacts, compose_followup
from agent.config import Settings
from agent.db.models import Message, Request, ReviewItem, TrackingNumber
from agent.followups.appeals import scan_appeals
from agent.followups.policy import STREAK_FLAG, FollowupPolicy, load_policy, should_escalate, streak
from agent.outbox.queue import enqueue
from agent.requests import appeals, lifecycle
from agent.requests.clock import statute_for
from agent.requests.states import AWAITING_AGENCY

log = logging.getLogger(__name__)
ACTOR = "deadline-scan"


@dataclass(frozen=True)
class ScanReport:
    due: int = 0
    queued: int = 0
    escalated: int = 0
    skipped: int = 0  # taken by another daemon between our read and our claim
    errors: tuple[str, ...] = field(default=())
    # The appeal timer runs in the same tick (agent/followups/appeals.py): window reminders, late-body letters.
    appeal_reminders: int = 0
    appeal_followups: int = 0


def due_query(today: dt.date, limit: int):  # type: ignore[no-untyped-def]
    """Due rows only, through ix_requests_next_action (next_action_date, state): cost follows the number due."""
    return (
        select(Request)
        .where(Request.next_action_date <= today, Request.state.in_(AWAITING_AGENCY))
        .order_by(Request.next_action_date, Request.id)
        .limit(limit)
    )


def scan_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    batch_size: int = 200,
) -> ScanReport:
    """Queue every follow-up due on or before `today` and escalate requests past the cap; then return."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.date() != today:
        # Follow-up spacing counts from the day we record; keep it the day we were asked about.
        now = dt.datetime.combine(today, dt.time(12), dt.timezone.utc)
    policy = load_policy(settings.rules_path)
    due = queued = escalated = skipped = 0
    errors: list[str] = []
    broken: set[int] = set()
    while True:
        with sessions.begin() as session:
            query = due_query(today, batch_size)
            if broken:
                query = query.where(Request.id.not_in(broken))
            if session.get_bind().dialect.name == "postgresql":
                # Several daemons share the work: each takes rows nobody else holds, none waits.
                query = query.with_for_update(skip_locked=True, of=Request)
            rows = list(session.scalars(query))
            for request in rows:
                due += 1
                if not _claim(session, request):
                    skipped += 1
                    continue
                try:
                    with session.begin_nested():
                        if should_escalate(request, policy):
                            _escalate(session, request, policy, now, settings)
                            escalated += 1
                        else:
                            queue_followup(session, request, policy, today, now, settings)
                            queued += 1
                except Exception as exc:  # noqa: BLE001 - one bad request must not stop the others
                    log.exception("follow-up for request %s failed", request.id)
                    broken.add(request.id)
                    errors.append(f"request {request.id}: {type(exc).__name__}: {exc}")
                    _hold(session, request, f"{type(exc).__name__}: {exc}", now, settings)
        if len(rows) < batch_size:
            break
    appeal = scan_appeals(sessions, settings, today=today, now=now)
    return ScanReport(due=due, queued=queued, escalated=escalated, skipped=skipped,
                      errors=tuple(errors) + appeal.errors, appeal_reminders=appeal.reminders,
                      appeal_followups=appeal.followups)


def _claim(session: Session, request: Request) -> bool:
    """Take the row only if nobody moved it since we read it.

    On PostgreSQL the row is already locked by FOR UPDATE; on SQLite the read happens outside the write
    lock, so this conditional UPDATE (which takes the lock) is what keeps two schedulers from both mailing.
    """
    seen_date, seen_count = request.next_action_date, request.followups_sent
    result = session.execute(
        update(Request)
        .where(
            Request.id == request.id,
            Request.next_action_date == seen_date,
            Request.followups_sent == seen_count,
            Request.state.in_(AWAITING_AGENCY),
        )
        .values(followups_sent=Request.followups_sent)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:  # an UPDATE's result; the ORM types execute() loosely
        return False
    session.refresh(request)
    return True


def _hold(session: Session, request: Request, problem: str, now: dt.datetime, settings: Settings) -> None:
    """A follow-up that cannot be written (no address, no due date) goes to a person instead of failing daily."""
    try:
        with session.begin_nested():
            session.refresh(request)
            session.add(ReviewItem(kind="followup_failed", request_id=request.id, reason=f"follow-up not sent: {problem}"))
            lifecycle.fire(
                session, request, "review", cause="timer", actor=ACTOR, detail={"reason": problem}, now=now,
                rules_dir=settings.rules_path,
            )
    except Exception:  # noqa: BLE001 - the database itself may be what failed; the next scan retries
        log.exception("could not hold request %s for review", request.id)


def _escalate(session: Session, request: Request, policy: FollowupPolicy, now: dt.datetime, settings: Settings) -> None:
    # Silence after the last follow-up may be appealed where the law allows it; the offer tracks its window.
    offered = appeals.offer(session, request, kind="silence", message=None, now=now, rules_dir=settings.rules_path,
                            review=False)
    how = f" (`agent appeal send {request.reference}`)" if offered is not None else ""
    session.add(
        ReviewItem(
            kind="escalation",
            request_id=request.id,
            reason=(
                f"{streak(request)} follow-ups since the last answer and still nothing; "
                f"decide: appeal{how}, call the agency, or close the request"
            ),
            suggestions=["appeal", "call", "close"] if offered is not None else ["call", "close"],
        )
    )
    lifecycle.fire(
        session, request, "escalate", cause="timer", actor=ACTOR,
        detail={"followups": streak(request), "cap": policy.max_followups}, now=now, rules_dir=settings.rules_path,
    )


def queue_followup(
    session: Session, request: Request, policy: FollowupPolicy, today: dt.date, now: dt.datetime, settings: Settings
) -> None:
    """Compose and queue one follow-up and do its bookkeeping (count, streak, next date, event) in `session`."""
    facts = _facts(session, request)
    statute = statute_for(request.jurisdiction, settings.rules_path)
    msg = compose_followup(
        facts, statute=statute, identity=settings.identity, today=today, now=now,
        rules_dir=settings.rules_path, template=policy.template, zone=settings.schedule.timezone,
    )
    row = enqueue(session, msg, kind="followup", request_id=request.id, agency_id=request.agency_id)
    request.followups_sent = (request.followups_sent or 0) + 1
    request.last_followup_at = now
    lifecycle.set_flag(request, STREAK_FLAG, streak(request) + 1)
    lifecycle.fire(
        session, request, "followup", cause="timer", actor=ACTOR,
        detail={"outbox_id": row.id, "message_id": row.message_id, "number": streak(request)},
        now=now, rules_dir=settings.rules_path,
    )


def _facts(session: Session, request: Request) -> FollowupFacts:
    """What the letter needs from the DB: recipients, thread ids, tracking numbers."""
    first_out = session.scalars(
        select(Message)
        .where(Message.request_id == request.id, Message.direction == "out")
        .order_by(Message.id)
        .limit(1)
    ).first()
    last_in = session.scalars(
        select(Message)
        .where(Message.request_id == request.id, Message.direction == "in", Message.message_id.is_not(None))
        .where(Message.kind.is_(None) | Message.kind.notin_(("auto_reply", "bounce")))
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    recipients = tuple(first_out.to_addrs) if first_out is not None and first_out.to_addrs else ()
    if not recipients:
        recipients = tuple(request.agency.emails or ())
    if not recipients:
        raise ValueError(f"request {request.reference}: no address to send a follow-up to")
    thread: list[str] = []
    for mid in (request.message_id, last_in.message_id if last_in is not None else None):
        if mid and mid not in thread:
            thread.append(mid)
    numbers = tuple(
        session.scalars(
            select(TrackingNumber.value).where(TrackingNumber.request_id == request.id).order_by(TrackingNumber.id)
        )
    )
    filed = request.filed_at.date() if request.filed_at else (request.clock_start or request.created_at.date())
    legal_due = request.extended_due or request.due_date
    if legal_due is None:
        raise ValueError(f"request {request.reference}: no due date known")
    return FollowupFacts(
        agency_name=request.agency.name,
        reference=request.reference,
        subject=request.subject,
        to=recipients,
        reply_to=request.reply_address,
        filed_date=filed,
        due_date=legal_due,
        promised_date=request.promised_date,
        tracking_numbers=numbers,
        thread_ids=tuple(thread),
        followup_number=streak(request) + 1,
        extended=request.extended_due is not None,
    )


# The filing side's campaign follow-ups call this by its earlier private name.
_queue_followup = queue_followup
