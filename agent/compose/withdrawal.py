"""A withdrawal notice: we no longer want the records; sent in the request's own thread so the agency can close it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from agent.compose.followup import followup_subject
from agent.compose.message import build_message, new_message_id
from agent.compose.render import render
from agent.config import IdentitySettings

TEMPLATE = "withdrawal.txt.j2"


@dataclass(frozen=True)
class WithdrawalFacts:
    """Everything the notice says, gathered from the DB by the caller so this module stays pure."""

    agency_name: str
    reference: str
    subject: str
    to: tuple[str, ...]
    reply_to: str | None
    filed_date: dt.date
    tracking_numbers: tuple[str, ...]
    thread_ids: tuple[str, ...]  # Message-IDs of the thread, oldest first: our request, then the agency's replies
    reason: str = ""  # the operator's words for the agency; empty: no reason line


def _human(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def compose_withdrawal(
    facts: WithdrawalFacts,
    *,
    identity: IdentitySettings,
    now: dt.datetime,
    rules_dir: Path,
    template: str = TEMPLATE,
) -> EmailMessage:
    """Render the template and build the mail; like a follow-up it threads by headers and quotes nothing."""
    text = render(
        rules_dir,
        template,
        {
            "agency_name": facts.agency_name,
            "reference": facts.reference,
            "filed_date": _human(facts.filed_date),
            "tracking_numbers": list(facts.tracking_numbers),
            "reason": " ".join(facts.reason.split()),  # one line, whatever the shell handed us
            "sender_name": identity.name,
            "signature": identity.signature,
        },
    )
    domain = identity.address.rpartition("@")[2] or "localhost"
    return build_message(
        sender_name=identity.name,
        sender_address=identity.address,
        to=facts.to,
        subject=followup_subject(facts.subject, facts.reference),
        text=text,
        reply_to=facts.reply_to,
        in_reply_to=facts.thread_ids[-1] if facts.thread_ids else None,
        references=facts.thread_ids,
        message_id=new_message_id(domain),
        date=now,
    )
