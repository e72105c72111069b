"""Apply what an agency's message means to its request: state, dates, review items, events; the last pipeline stage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from agent.db.models import Event, Message, Request, ReviewItem
from agent.followups.policy import STREAK_FLAG
from agent.pipeline.autoapply import DEFAULT_CLOSING_THRESHOLD, Thresholds, decide
from agent.pipeline.stage_data import Understanding
from agent.requests import appeals, lifecycle, states
from agent.requests.clock import statutory_deadline

DEFAULT_REVIEW_THRESHOLD = 0.6
ACTOR = "pipeline"

# After we withdrew, only a bill or a question still needs an answer from us (to say it is withdrawn).
_STILL_NEEDS_PERSON_AFTER_WITHDRAWAL = frozenset({"fee", "clarification"})
# Labels that also need a person, even when the classifier is sure: money or an answer from us.
_NEEDS_PERSON = {"fee": "fee", "clarification": "clarification", "portal_redirect": "portal"}


def _review(
    session: Session, request: Request, message: Message, kind: str, reason: str, suggestions: list[object] | None = None
) -> ReviewItem:
    if message.id is None:
        session.flush()
    item = ReviewItem(
        kind=kind, request_id=request.id, message_row_id=message.id, reason=reason, suggestions=list(suggestions or [])
    )
    session.add(item)
    return item


def _to_review(
    session: Session, request: Request, message: Message, *, reason: str, now: dt.datetime, rules_dir: Path
) -> list[Event]:
    """Hold the request for a person: needs_review stops the follow-up timer until someone decides."""
    if states.can(request.state, "review"):
        return [
            lifecycle.fire(
                session, request, "review", cause="message", actor=ACTOR, detail={"reason": reason},
                message=message, now=now, rules_dir=rules_dir,
            )
        ]
    return [
        lifecycle.record_event(
            session, request, "held_for_review", cause="message", actor=ACTOR, detail={"reason": reason},
            from_state=request.state, to_state=request.state, message=message, now=now,
        )
    ]


def apply_message(
    session: Session,
    *,
    request: Request,
    message: Message,
    understanding: Understanding | None,
    kind: str,
    now: dt.datetime,
    rules_dir: Path,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    unknown_sender: str = "",
    bounce_proof: str = "",
    closing_threshold: float = DEFAULT_CLOSING_THRESHOLD,
) -> list[Event]:
    """Update `request` for one inbound message in the caller's transaction and return the events written.

    Auto-replies and bounces are never an agency response and are never answered. A doubtful reading, a
    fee, a clarification or a suspicious sender opens a review item and the daemon waits for a person.
    unknown_sender (why the agency does not vouch for the sender) holds the message for a person with the
    request untouched; bounce_proof (how a bounce was tied to a letter we sent) is what lets a bounce propose
    "undeliverable" at all, and even then the request is left as it is until a person confirms.
    """
    label = understanding.label if understanding is not None else None
    if kind == "auto_reply" or (kind == "reply" and label == "auto_reply"):
        # An out-of-office says nothing about the request; the clock keeps running.
        return [
            lifecycle.record_event(
                session, request, "auto_reply_ignored", cause="message", actor=ACTOR,
                from_state=request.state, to_state=request.state, message=message, now=now,
            )
        ]
    if kind == "bounce" or label == "bounce":
        return _bounce(session, request, message, bounce_proof, now=now, rules_dir=rules_dir)
    if kind != "reply":
        raise ValueError(f"unknown message kind {kind!r}; expected reply, auto_reply or bounce")
    if unknown_sender:
        return _hold_unknown_sender(session, request, message, understanding, unknown_sender, now=now)

    # A real answer from the agency: the follow-up streak starts over.
    request.last_reply_at = now
    lifecycle.set_flag(request, STREAK_FLAG, 0)
    # The same decision `agent classify --jsonl` reports as "auto" (agent/pipeline/autoapply.py).
    verdict = decide(understanding, Thresholds(review=review_threshold, closing=closing_threshold))
    if not verdict.auto:
        _review(session, request, message, "low_confidence", verdict.uncertain, [label] if label else [])
        return _to_review(session, request, message, reason="low_confidence", now=now, rules_dir=rules_dir)
    assert understanding is not None
    return _apply_label(session, request, message, understanding, now=now, rules_dir=rules_dir)


def _bounce(
    session: Session, request: Request, message: Message, proof: str, *, now: dt.datetime, rules_dir: Path
) -> list[Event]:
    """A bounce proposes "undeliverable" to a person; one not tied to our own letter proposes nothing."""
    if not proof:
        # MAILER-DAEMON@ any domain, or our reference in a subject, is something anyone can write.
        _review(
            session, request, message, "suspect_bounce",
            "looks like a bounce, but does not match a letter we sent through our own mail server; "
            "the request was left as it is; confirm or dismiss to close this, or set-state undeliverable "
            "if our letter really did not arrive",
        )
        return [
            lifecycle.record_event(
                session, request, "bounce_unverified", cause="message", actor=ACTOR,
                from_state=request.state, to_state=request.state, message=message, now=now,
            )
        ]
    # Even a report tied to our letter is text anyone who saw the letter's Message-ID could write: it proposes,
    # and the request stays as it is (no hold either) until a person confirms it.
    _review(
        session, request, message, "bounce",
        f"our letter bounced ({proof}); the request was left as it is; confirm to mark it undeliverable "
        "(no more follow-ups), dismiss if the report is not genuine, or fix the address",
        ["undeliverable"],
    )
    return [
        lifecycle.record_event(
            session, request, "bounce_reported", cause="message", actor=ACTOR, detail={"proof": proof},
            from_state=request.state, to_state=request.state, message=message, now=now,
        )
    ]


def _hold_unknown_sender(
    session: Session, request: Request, message: Message, u: Understanding | None, why: str, *, now: dt.datetime
) -> list[Event]:
    """Attached to the thread, shown to a person with what it says, and nothing else: no state, no dates, no streak."""
    reading = f"{u.label} ({u.confidence:.2f})" if u is not None else "no reading"
    detail: dict[str, object] = {"reason": why, "label": u.label if u is not None else None}
    if u is not None and u.fees:
        detail["fees"] = [{"amount": f.amount, "currency": f.currency, "kind": f.kind} for f in u.fees]
    if u is not None and u.links:
        detail["links"] = list(u.links[:5])
    _review(
        session, request, message, "unknown_sender",
        f"{why}; it reads as {reading}; confirm to apply it as the agency's answer",
        [detail],
    )
    return [
        lifecycle.record_event(
            session, request, "held_unknown_sender", cause="message", actor=ACTOR, detail=detail,
            from_state=request.state, to_state=request.state, message=message, now=now,
        )
    ]


def _apply_label(
    session: Session, request: Request, message: Message, u: Understanding, *, now: dt.datetime, rules_dir: Path
) -> list[Event]:
    detail: dict[str, object] = {"label": u.label, "confidence": round(u.confidence, 3), "rules": list(u.rules)}
    if u.label == "extension":
        legal_max = _legal_extension(request, rules_dir)
        request.extended_due = u.expected_date or legal_max
        detail["extended_due"] = request.extended_due.isoformat() if request.extended_due else None
        if u.expected_date and legal_max and u.expected_date > legal_max:
            # The agency's date stands as the checkpoint, but the timeline shows the law allowed less.
            detail["statutory_extension_limit"] = legal_max.isoformat()
    elif u.expected_date is not None and u.label in ("acknowledgment", "batch", "other", "extension"):
        # "We anticipate providing the records by March 1": a promise becomes the next checkpoint
        # when it is later than the statutory date (policy.checkpoint takes the later of the two).
        request.promised_date = u.expected_date
        detail["promised_date"] = u.expected_date.isoformat()
    if u.fees:
        detail["fees"] = [{"amount": f.amount, "currency": f.currency, "kind": f.kind} for f in u.fees]

    trigger = states.LABEL_TRIGGER.get(u.label)
    if trigger is None:
        # "other" (or a label that moves nothing): a response worth recording, with the dates recomputed.
        lifecycle.reschedule(request, rules_dir)
        return [
            lifecycle.record_event(
                session, request, "reply_noted", cause="message", actor=ACTOR, detail=detail,
                from_state=request.state, to_state=request.state, message=message, now=now,
            )
        ]
    if request.state == "withdrawn" and u.label not in _STILL_NEEDS_PERSON_AFTER_WITHDRAWAL:
        # The agency acknowledging our withdrawal, or records it had already gathered: worth keeping in the
        # thread, not worth a person's time.
        return [
            lifecycle.record_event(
                session, request, "reply_after_withdrawal", cause="message", actor=ACTOR, detail=detail,
                from_state=request.state, to_state=request.state, message=message, now=now,
            )
        ]
    if not states.can(request.state, trigger):
        _review(
            session, request, message, "unexpected",
            f"a {u.label!r} message is not expected for a request in state {request.state!r}",
        )
        return [
            lifecycle.record_event(
                session, request, "unexpected_message", cause="message", actor=ACTOR, detail=detail,
                from_state=request.state, to_state=request.state, message=message, now=now,
            )
        ]
    events = [
        lifecycle.fire(
            session, request, trigger, cause="message", actor=ACTOR, detail=detail,
            message=message, now=now, rules_dir=rules_dir,
        )
    ]
    # A pending appeal is answered by the body's decision; a fresh denial or no-records finding may be appealed.
    appeals.note_reply(session, request, message, u.label, u.expected_date, now=now)
    if u.label in ("denial", "no_records") and request.state in ("rejected", "no_records"):
        appeals.offer(session, request, kind=u.label, message=message, now=now, rules_dir=rules_dir)
    review_kind = _NEEDS_PERSON.get(u.label)
    if review_kind is not None:
        reason = {
            "fee": "the agency asks for a fee; approve or decline before anything else happens",
            "clarification": "the agency asks a question; answer it before the request can go on",
            "portal": "the agency asks that the request go through its portal",
        }[review_kind]
        fees = detail.get("fees")
        _review(session, request, message, review_kind, reason, fees if isinstance(fees, list) else [])
    return events


def _legal_extension(request: Request, rules_dir: Path) -> dt.date | None:
    """An extension notice without a date: assume the longest extension the statute allows."""
    if request.clock_start is None:
        return None
    return statutory_deadline(request.jurisdiction, request.clock_start, rules_dir).extended_due
