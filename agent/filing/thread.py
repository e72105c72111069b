"""Letters in a request's own thread: whom to write, which Message-IDs to cite, and one outbox row per letter.

Withdrawal notices, answers from review and appeals all need the same facts from the database and the
same threading headers; they are gathered here once so every letter in a thread looks alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.compose.followup import human_date, reply_in_thread
from agent.compose.message import HeaderInjectionError
from agent.compose.render import render
from agent.config import Settings
from agent.db.models import Message, Outbox, Request, TrackingNumber
from agent.operators.clock import as_utc, local_today
from agent.outbox.queue import enqueue

# A request letter in one of these outbox states may have reached the agency ("sending": on the wire right now).
LETTER_LEFT = ("sent", "uncertain", "sending")
NOT_A_REPLY = ("auto_reply", "bounce")
THREAD_REPLIES = 3  # the agency's latest replies named in References (with our letter) so the letter threads


class ThreadLetterError(Exception):
    """A letter cannot be written in this thread (no address, a variable that clashes); the message says why."""


@dataclass(frozen=True)
class ThreadFacts:
    """What any letter in a request's thread needs from the database, gathered once so composing stays pure."""

    agency_name: str
    reference: str
    subject: str
    to: tuple[str, ...]
    reply_to: str | None
    filed_date: dt.date
    tracking_numbers: tuple[str, ...]
    thread_ids: tuple[str, ...]  # Message-IDs, oldest first: our request, then the agency's latest replies

    def template_vars(self, settings: Settings) -> dict[str, Any]:
        """The names every thread template may use; a template's own variables come on top of these."""
        return {
            "agency_name": self.agency_name,
            "reference": self.reference,
            "filed_date": human_date(self.filed_date),
            "tracking_number": self.tracking_numbers[0] if self.tracking_numbers else None,
            "tracking_numbers": list(self.tracking_numbers),
            "sender_name": settings.identity.name,
            "signature": settings.identity.signature,
        }


def letters_out(session: Session, request: Request) -> list[Outbox]:
    """Our request letter's outbox rows that may have reached the agency, first one first."""
    return list(
        session.scalars(
            select(Outbox)
            .where(Outbox.request_id == request.id, Outbox.kind == "request", Outbox.state.in_(LETTER_LEFT))
            .order_by(Outbox.id)
        )
    )


def _recipients(session: Session, request: Request, letters: list[Outbox]) -> tuple[str, ...]:
    recipients = tuple(request.agency.emails or ())
    if recipients:
        return recipients
    # The directory lost the address since: the letter's own recipients still reach the same office.
    first_out = session.scalars(
        select(Message).where(Message.request_id == request.id, Message.direction == "out").order_by(Message.id).limit(1)
    ).first()
    if first_out is not None and first_out.to_addrs:
        return tuple(first_out.to_addrs)
    return tuple(letters[0].recipients) if letters else ()


def _filed(request: Request, letters: list[Outbox], now: dt.datetime) -> dt.datetime:
    if request.filed_at is not None:
        return request.filed_at
    if letters:
        first = letters[0]
        return first.sent_at or first.smtp_started_at or first.claimed_at or first.created_at or now
    return request.created_at or now


def thread_facts(session: Session, request: Request, settings: Settings, now: dt.datetime) -> ThreadFacts | None:
    """The thread's facts from the database; None when there is no address to write to."""
    letters = letters_out(session, request)
    recipients = _recipients(session, request, letters)
    if not recipients:
        return None
    replies = list(
        session.scalars(
            select(Message.message_id)
            .where(Message.request_id == request.id, Message.direction == "in", Message.message_id.is_not(None))
            .where(Message.kind.is_(None) | Message.kind.notin_(NOT_A_REPLY))
            .order_by(Message.id.desc())
            .limit(THREAD_REPLIES)
        )
    )
    thread = list(dict.fromkeys(mid for mid in (request.message_id, *reversed(replies)) if mid))
    numbers = tuple(
        session.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == request.id).order_by(TrackingNumber.id))
    )
    return ThreadFacts(
        agency_name=request.agency.name,
        reference=request.reference,
        subject=request.subject or "",
        to=recipients,
        reply_to=request.reply_address,
        filed_date=local_today(settings.schedule.timezone, as_utc(_filed(request, letters, now)) or now),
        tracking_numbers=numbers,
        thread_ids=tuple(thread),
    )


def letter_text(facts: ThreadFacts, template: str, variables: Mapping[str, Any], settings: Settings) -> str:
    """Render a template from rules/templates/ with the thread's names and the caller's own (which may not clash).

    A broken template raises agent.compose.render.TemplateError, naming the template."""
    base = facts.template_vars(settings)
    clash = sorted(set(base) & set(variables))
    if clash:
        raise ThreadLetterError(f"variable(s) {', '.join(clash)} are filled in by the agent; do not pass them")
    return render(settings.rules_path, template, {**base, **variables})


def queue_thread_letter(
    session: Session,
    request: Request,
    *,
    kind: str,
    settings: Settings,
    now: dt.datetime,
    text: str | None = None,
    template: str | None = None,
    variables: Mapping[str, Any] | None = None,
    facts: ThreadFacts | None = None,
) -> Outbox:
    """Compose one letter in the request's thread and put it in the outbox, in the caller's transaction.

    Give either `text` (already written, e.g. by the operator in $EDITOR) or a `template` with `variables`.
    The outbox row and its Message-ID exist only if the caller commits: whatever else that transaction
    records (a review item closed, a state moved) commits with it, so a crash can neither lose the letter
    nor send it twice. Raises ThreadLetterError when there is nobody to write to or the letter is malformed,
    TemplateError when the template is.
    """
    if (text is None) == (template is None):
        raise ThreadLetterError("give either the letter's text or a template, not both or neither")
    facts = facts or thread_facts(session, request, settings, now)
    if facts is None:
        raise ThreadLetterError(f"{request.agency.name} has no email address; answer request {request.reference} by hand")
    body = text if text is not None else letter_text(facts, template or "", variables or {}, settings)
    if not body.strip():
        raise ThreadLetterError("the letter is empty")
    try:
        msg = reply_in_thread(
            settings.identity, to=facts.to, subject=facts.subject, reference=facts.reference, text=body,
            reply_to=facts.reply_to, thread_ids=facts.thread_ids, now=now,
        )
    except HeaderInjectionError as exc:
        raise ThreadLetterError(f"request {request.reference}: {exc}") from None
    return enqueue(session, msg, kind=kind, request_id=request.id, agency_id=request.agency_id)
