"""A follow-up letter: short and polite, in the request's own thread, citing the law and how late the answer is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from agent.compose.message import build_message
from agent.compose.render import render
from agent.config import IdentitySettings
from agent.deadlines.statutes import Statute


@dataclass(frozen=True)
class FollowupFacts:
    """Everything the letter says, gathered from the DB by the caller so this module stays pure."""

    agency_name: str
    reference: str
    subject: str
    to: tuple[str, ...]
    reply_to: str | None
    filed_date: dt.date
    due_date: dt.date
    promised_date: dt.date | None
    tracking_numbers: tuple[str, ...]
    thread_ids: tuple[str, ...]  # Message-IDs of the thread, oldest first: our request, then later mail
    followup_number: int
    extended: bool = False  # due_date is the extended one, after the agency's notice


def human_date(day: dt.date) -> str:
    """March 7, 2025: how a letter writes a date."""
    return f"{day:%B} {day.day}, {day.year}"


def followup_subject(subject: str, reference: str) -> str:
    base = subject or f"Public records request {reference}"
    if reference not in base:
        base = f"{base} [{reference}]"
    return base if base.lower().startswith("re:") else f"Re: {base}"


def reply_in_thread(
    identity: IdentitySettings,
    *,
    to: Sequence[str],
    subject: str,
    reference: str,
    text: str,
    reply_to: str | None,
    thread_ids: Sequence[str],
    now: dt.datetime,
    to_name: str = "",
    zone: str | None = None,
) -> EmailMessage:
    """Our mail in a request's thread: "Re:" with our reference, In-Reply-To the latest id, References all.

    Quotes nothing: the agency's portal strips quotes, and headers keep the thread together."""
    return build_message(
        sender_name=identity.name,
        sender_address=identity.address,
        to=to,
        subject=followup_subject(subject, reference),
        text=text,
        reply_to=reply_to,
        in_reply_to=thread_ids[-1] if thread_ids else None,
        references=thread_ids,
        date=now,
        to_name=to_name,
        zone=zone,
    )


def compose_followup(
    facts: FollowupFacts,
    *,
    statute: Statute,
    identity: IdentitySettings,
    today: dt.date,
    now: dt.datetime,
    rules_dir: Path,
    template: str = "followup.txt.j2",
    zone: str | None = None,
) -> EmailMessage:
    """Render the template and build the mail; the history is referenced by headers, never quoted."""
    checkpoint = max(d for d in (facts.due_date, facts.promised_date) if d is not None)
    text = render(
        rules_dir,
        template,
        {
            "agency_name": facts.agency_name,
            "reference": facts.reference,
            "filed_date": human_date(facts.filed_date),
            "due_date": human_date(facts.due_date),
            "promised_date": human_date(facts.promised_date) if facts.promised_date and facts.promised_date > facts.due_date else None,
            "days_overdue": max(0, (today - checkpoint).days),
            "statute_name": statute.name,
            "citation": statute.citation,
            "extension_citation": statute.extension.citation,
            "tracking_number": facts.tracking_numbers[0] if facts.tracking_numbers else None,
            "tracking_numbers": list(facts.tracking_numbers),
            "followup_number": facts.followup_number,
            "extended": facts.extended,
            "sender_name": identity.name,
            "signature": identity.signature,
        },
    )
    return reply_in_thread(
        identity, to=facts.to, subject=facts.subject, reference=facts.reference, text=text,
        reply_to=facts.reply_to, thread_ids=facts.thread_ids, now=now, to_name=facts.agency_name, zone=zone,
    )
