"""One request to one agency: a draft with our reference and reply address, then queued mail with a fixed Message-ID."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.compose.message import build_message, new_message_id
from agent.config import Settings
from agent.db.models import Agency, Campaign, Outbox, Request
from agent.filing.letters import AgencyInfo, Letter, StatuteBook, render_letter
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
    msg = build_message(
        sender_name=settings.identity.name,
        sender_address=settings.identity.address,
        to=list(agency.emails),
        subject=request.subject,
        text=request.body,
        reply_to=request.reply_address,
        message_id=message_id,
        date=now,
    )
    row = enqueue(session, msg, kind="request", request_id=request.id, agency_id=agency.id)
    request.message_id = message_id
    lifecycle.fire(
        session, request, "queue", cause="operator", actor=actor,
        detail={"outbox_id": row.id, "message_id": message_id}, now=now, rules_dir=settings.rules_path,
    )
    session.flush()
    return row


def withdraw_request(
    session: Session,
    request: Request,
    *,
    actor: str = ACTOR,
    reason: str = "",
    now: dt.datetime | None = None,
    rules_dir: Path | None = None,
) -> bool:
    """Withdraw an open request and cancel its mail still waiting in the outbox; False when already closed."""
    if not states.can(request.state, "withdraw"):
        return False
    cancelled = session.execute(
        update(Outbox)
        .where(Outbox.request_id == request.id, Outbox.state == "queued")
        .values(state="cancelled", last_error="request withdrawn")
    ).rowcount
    lifecycle.fire(
        session, request, "withdraw", cause="operator", actor=actor,
        detail={"reason": reason, "outbox_cancelled": cancelled}, now=now, rules_dir=rules_dir,
    )
    return True


def get_request(session: Session, key: str | int) -> Request | None:
    """By id (`7`) or by our reference (`RA-2025-0007`, any case)."""
    text = str(key).strip()
    if text.isdigit():
        return session.get(Request, int(text))
    return session.scalar(select(Request).where(Request.reference == text.upper()))


def parse_vars(pairs: list[str] | None) -> dict[str, str]:
    """`--var key=value` pairs into a dict; a malformed pair is a usage error, not a silent skip."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise FilingError(f"--var {pair!r}: expected NAME=VALUE with NAME a plain identifier")
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
