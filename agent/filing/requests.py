"""One request to one agency: a draft with our reference and reply address, then queued mail with a fixed Message-ID."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session

from agent.compose.message import HeaderInjectionError, build_message, new_message_id
from agent.compose.variables import VariableError, check_name
from agent.compose.withdrawal import WITHDRAWAL_TEMPLATE
from agent.config import Settings
from agent.db.models import Agency, Campaign, Message, Outbox, Request
from agent.filing.letters import RESERVED, AgencyInfo, Letter, StatuteBook, render_letter
from agent.filing.thread import LETTER_LEFT, NOT_A_REPLY, letters_out, queue_thread_letter, thread_facts
from agent.operators.ids import as_id
from agent.outbox.queue import enqueue
from agent.requests import lifecycle, states
from agent.requests.addresses import make_reference, make_reply_address

ACTOR = "filing"
CLOSED_STATES = frozenset(states.CLOSED)


class FilingError(Exception):
    """A request cannot be created or sent as asked; the message says why and what to do."""


def local_date(now: dt.datetime, settings: Settings) -> dt.date:
    """The date in the operator's time zone: a letter sent at 23:30 in California is dated that day."""
    return now.astimezone(ZoneInfo(settings.schedule.timezone)).date()


def subject_with_reference(reference: str, subject: str) -> str:
    return f"[{reference}] {subject}"


def _letter_for(request: Request, agency: Agency, settings: Settings, filed_on: dt.date, book: StatuteBook | None) -> Letter:
    return render_letter(
        settings.rules_path,
        request.template or "",
        agency=AgencyInfo(name=agency.name, jurisdiction=agency.jurisdiction),
        variables=request.variables or {},
        identity=settings.identity,
        reference=request.reference,
        filed_on=filed_on,
        book=book,
    )


def create_request(
    session: Session,
    *,
    agency: Agency,
    template: str,
    variables: Mapping[str, Any],
    settings: Settings,
    now: dt.datetime,
    campaign: Campaign | None = None,
    book: StatuteBook | None = None,
    actor: str = ACTOR,
) -> Request:
    """Make a draft: the letter is rendered now (raising LetterError on any template problem) and shown before sending."""
    request = Request(
        # A unique placeholder until the row has its id; the reference is built from the id so two
        # operators filing at once can never be given the same number.
        reference=f"pending-{uuid.uuid4().hex}",
        agency_id=agency.id,
        campaign_id=campaign.id if campaign is not None else None,
        state="draft",
        jurisdiction=agency.jurisdiction,
        template=template,
        variables=dict(variables),
    )
    session.add(request)
    session.flush()
    request.reference = make_reference(settings.identity.reference_prefix, request.id, local_date(now, settings).year)
    request.reply_address = make_reply_address(settings.identity, request.reference)
    letter = _letter_for(request, agency, settings, local_date(now, settings), book)
    request.subject = subject_with_reference(request.reference, letter.subject)
    request.body = letter.body
    lifecycle.record_event(
        session,
        request,
        "created",
        cause="operator",
        actor=actor,
        to_state="draft",
        detail={"template": letter.template, "due_if_sent_today": letter.due.isoformat(), "citation": letter.citation},
        now=now,
    )
    session.flush()
    return request


def send_request(
    session: Session,
    request: Request,
    settings: Settings,
    now: dt.datetime,
    *,
    book: StatuteBook | None = None,
    actor: str = ACTOR,
) -> Outbox:
    """Queue a draft: the letter is re-dated to today, the Message-ID fixed and stored, the state moved to queued."""
    if request.state != "draft":
        raise FilingError(f"request {request.reference} is {request.state}, not a draft; only drafts can be sent")
    agency = request.agency
    if not agency.emails:
        where = f" through its portal {agency.portal_url}" if agency.portal_url else ""
        raise FilingError(f"{agency.name} has no email address; file request {request.reference}{where} by hand")
    if request.template:
        # The draft may be days old: the deadline in the letter must count from the day it actually goes out.
        letter = _letter_for(request, agency, settings, local_date(now, settings), book)
        request.subject = subject_with_reference(request.reference, letter.subject)
        request.body = letter.body
    domain = settings.identity.address.rpartition("@")[2] or "localhost"
    message_id = new_message_id(domain)
    try:
        msg = build_message(
            sender_name=settings.identity.name,
            sender_address=settings.identity.address,
            to=list(agency.emails),
            to_name=agency.name,
            subject=request.subject,
            text=request.body,
            reply_to=request.reply_address,
            message_id=message_id,
            date=now,
            zone=settings.schedule.timezone,
        )
    except HeaderInjectionError as exc:
        raise FilingError(f"request {request.reference} cannot be sent: {exc}") from None
    row = enqueue(session, msg, kind="request", request_id=request.id, agency_id=agency.id)
    request.message_id = message_id
    lifecycle.fire(
        session, request, "queue", cause="operator", actor=actor,
        detail={"outbox_id": row.id, "message_id": message_id}, now=now, rules_dir=settings.rules_path,
    )
    session.flush()
    return row


# A withdrawal notice in one of these states has gone or will go out; a cancelled or failed one never arrived.
NOTICE_LIVE = ("queued", "sending", "sent", "uncertain")


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing one request did: mail cancelled, and the notice queued (or why none was)."""

    request_id: int
    reference: str
    outbox_cancelled: int
    notice_id: int | None = None
    notice_message_id: str | None = None
    no_notice: str | None = None  # why no notice was queued, when none was


def went_out(session: Session, request: Request) -> bool:
    """Has the agency (possibly) got our letter? Sent or in doubt, or it has written to us about it."""
    if request.filed_at is not None or letters_out(session, request):
        return True
    replied = session.scalar(
        select(Message.id)
        .where(Message.request_id == request.id, Message.direction == "in")
        .where(Message.kind.is_(None) | Message.kind.notin_(NOT_A_REPLY))
        .limit(1)
    )
    return replied is not None


def _existing_notice(session: Session, request: Request) -> int | None:
    return session.scalar(
        select(Outbox.id)
        .where(Outbox.request_id == request.id, Outbox.kind == "withdrawal", Outbox.state.in_(NOTICE_LIVE))
        .limit(1)
    )


def _notice_due(session: Session, request: Request, wanted: bool) -> str | None:
    """None when the agency must be told; else why not (read before anything is written)."""
    if not went_out(session, request):
        return "never sent to the agency"
    if not wanted:
        return "not requested"
    existing = _existing_notice(session, request)
    if existing is not None:
        return f"a withdrawal notice is already in the outbox (outbox {existing})"
    return None


def withdraw(
    session: Session,
    request: Request,
    *,
    settings: Settings | None = None,
    notice: bool = True,
    actor: str = ACTOR,
    reason: str = "",
    notice_reason: str = "",
    now: dt.datetime | None = None,
    rules_dir: Path | None = None,
) -> Withdrawal | None:
    """Withdraw an open request: cancel its mail still waiting, and tell the agency if our letter reached it.

    The notice (kind "withdrawal") is queued in the caller's transaction, together with the state change
    and the event that names it, and only when the letter went out: a draft, or a letter still queued
    (cancelled here), needs no notice. `reason` goes in our history; `notice_reason`, if given, in the
    notice. Returns None when the request is already closed, so a second withdrawal mails nobody.
    Raises FilingError when a notice is due but no settings were given to write it with.
    """
    if not states.can(request.state, "withdraw"):
        return None
    why = _notice_due(session, request, notice)
    if why is None and settings is None:
        raise FilingError(
            f"request {request.reference} went out to the agency: pass settings to send it a withdrawal notice, "
            "or notice=False"
        )
    seen = request.state
    # Claim the row (the UPDATE locks it): of two operators withdrawing at once, only one goes on to mail.
    claimed = _rowcount(session.execute(
        update(Request)
        .where(Request.id == request.id, Request.state == seen)
        .values(state=seen)
        .execution_options(synchronize_session=False)
    ))
    if claimed != 1:
        session.refresh(request)
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    if rules_dir is None and settings is not None:
        rules_dir = settings.rules_path
    # A withdrawal notice still queued (the request was reopened and is withdrawn again) stays: it is the one notice.
    cancelled = _rowcount(session.execute(
        update(Outbox)
        .where(Outbox.request_id == request.id, Outbox.state == "queued", Outbox.kind != "withdrawal")
        .values(state="cancelled", last_error="request withdrawn")
    ))
    row: Outbox | None = None
    if why is None:
        assert settings is not None
        facts = thread_facts(session, request, settings, now)
        if facts is None:
            why = f"{request.agency.name} has no email address"
        else:
            row = queue_thread_letter(
                session, request, kind="withdrawal", settings=settings, now=now, facts=facts,
                template=WITHDRAWAL_TEMPLATE,
                variables={"reason": " ".join(notice_reason.split())},  # one line, whatever the shell handed us
            )
    lifecycle.fire(
        session, request, "withdraw", cause="operator", actor=actor,
        detail={
            "reason": reason,
            "outbox_cancelled": cancelled,
            "notice_outbox_id": row.id if row is not None else None,
            "notice_message_id": row.message_id if row is not None else None,
            "no_notice": why,
        },
        now=now, rules_dir=rules_dir,
    )
    return Withdrawal(
        request_id=request.id,
        reference=request.reference,
        outbox_cancelled=cancelled,
        notice_id=row.id if row is not None else None,
        notice_message_id=row.message_id if row is not None else None,
        no_notice=why,
    )


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE touched (a CursorResult's count; the ORM types execute() more loosely)."""
    return int(cast(CursorResult[Any], result).rowcount)


def get_request(session: Session, key: str | int) -> Request | None:
    """By id (`7`) or by our reference (`RA-2025-0007`, any case)."""
    text = str(key).strip()
    row_id = as_id(text)
    if row_id is not None:
        return session.get(Request, row_id)
    return session.scalar(select(Request).where(Request.reference == text.upper()))


def parse_vars(pairs: list[str] | None) -> dict[str, str]:
    """`--var key=value` pairs into a dict; a malformed pair is a usage error, not a silent skip."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise FilingError(f"--var {pair!r}: expected NAME=VALUE with NAME a plain identifier")
        if key in result:
            raise FilingError(f"--var {key} is given twice; give each variable once")
        try:
            check_name(key, RESERVED)
        except VariableError as exc:
            raise FilingError(f"--var {key}: {exc}") from None
        if value.startswith("@") and len(value) > 1:
            # Long passages (the list of records) are easier to keep in a file: --var records=@records.txt
            try:
                value = Path(value[1:]).read_text(encoding="utf-8").strip("\n")
            except (OSError, UnicodeDecodeError) as exc:
                raise FilingError(f"--var {key}: cannot read {value[1:]}: {exc}") from None
        else:
            # Shells make multi-line values awkward; a literal \n becomes a line break in the letter.
            value = value.replace("\\n", "\n")
        result[key] = value
    return result
