"""Queue mail: the row, its Message-ID and its exact bytes exist before any SMTP connection does."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Outbox


class QueueError(ValueError):
    """The message cannot be queued as it is (no Message-ID, no recipients, duplicate)."""


def enqueue(
    session: Session,
    msg: EmailMessage,
    *,
    kind: str,
    request_id: int | None = None,
    agency_id: int | None = None,
    not_before: dt.datetime | None = None,
) -> Outbox:
    """Add one message to the outbox in the caller's transaction; the same Message-ID is never queued twice."""
    message_id = msg["Message-ID"]
    if not message_id:
        raise QueueError("message has no Message-ID; build it with agent.compose.message.build_message")
    recipients = [addr for _, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if addr]
    if not recipients:
        raise QueueError(f"message {message_id} has no recipients")
    if session.scalar(select(Outbox.id).where(Outbox.message_id == message_id)) is not None:
        raise QueueError(f"message {message_id} is already in the outbox")
    sender = getaddresses([msg["From"] or ""])[0][1]
    row = Outbox(
        message_id=message_id,
        request_id=request_id,
        agency_id=agency_id,
        kind=kind,
        sender=sender,
        recipients=recipients,
        subject=str(msg["Subject"] or ""),
        raw=msg.as_bytes(),
        state="queued",
        attempts=0,
        next_attempt_at=not_before or dt.datetime.now(dt.timezone.utc),
    )
    session.add(row)
    session.flush()
    return row
