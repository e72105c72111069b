"""A withdrawal notice: we no longer want the records; sent in the request's own thread so the agency can close it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from agent.compose.followup import human_date, reply_in_thread
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


def compose_withdrawal(
    facts: WithdrawalFacts,
    *,
    identity: IdentitySettings,
    now: dt.datetime,
    rules_dir: Path,
    template: str = TEMPLATE,
    zone: str | None = None,
) -> EmailMessage:
    """Render the template and build the mail; like a follow-up it threads by headers and quotes nothing."""
    text = render(
        rules_dir,
        template,
        {
            "agency_name": facts.agency_name,
            "reference": facts.reference,
            "filed_date": human_date(facts.filed_date),
            "tracking_numbers": list(facts.tracking_numbers),
            "reason": " ".join(facts.reason.split()),  # one line, whatever the shell handed us
            "sender_name": identity.name,
            "signature": identity.signature,
        },
    )
    return reply_in_thread(
        identity, to=facts.to, subject=facts.subject, reference=facts.reference, text=text,
        reply_to=facts.reply_to, thread_ids=facts.thread_ids, now=now, to_name=facts.agency_name, zone=zone,
    )
