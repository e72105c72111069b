"""What "sent" means in the database: an archived copy, an outbound Message row, the outbox row closed."""

from __future__ import annotations

import datetime as dt
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update, select
from sqlalchemy.orm import Session

from agent.config import Settings
from agent.db.models import Message, Outbox, Request
from agent.mail.archive import Archive, Archived, sha256_hex
from agent.requests import lifecycle


def changed(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE in the caller's transaction and say how many rows it touched."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(cast("CursorResult[Any]", result).rowcount)


def header_of(raw: bytes, name: str) -> str | None:
    value = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)[name]
    return str(value).strip() if value is not None else None


def outbound_message(session: Session, message_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.direction == "out", Message.message_id == message_id).limit(1)
    ).first()


def record_sent(
    session: Session,
    settings: Settings,
    row: Outbox,
    archived: Archived | None,
    now: dt.datetime,
    *,
    code: int | None = 250,
    note: str | None = None,
) -> None:
    """Close the row as sent in the caller's transaction; for a request letter, start its legal clock."""
    if outbound_message(session, row.message_id) is None and archived is not None:
        headers = BytesParser(policy=default_policy).parsebytes(row.raw, headersonly=True)
        refs = str(headers["References"] or "").split()
        session.add(
            Message(
                direction="out",
                dedupe_key=row.message_id,
                message_id=row.message_id,
                sha256=archived.sha256,
                archive_key=archived.key,
                size=archived.size,
                request_id=row.request_id,
                status="processed",
                subject=row.subject,
                from_addr=row.sender,
                to_addrs=list(row.recipients),
                sent_date=now,
                in_reply_to=str(headers["In-Reply-To"]).strip() if headers["In-Reply-To"] else None,
                references=refs,
                kind="ours",
                received_at=now,
                processed_at=now,
            )
        )
    row.state = "sent"
    row.sent_at = now
    row.last_code = code
    row.last_error = note
    row.next_attempt_at = None
    if row.kind == "request" and row.request_id is not None:
        request = session.get(Request, row.request_id)
        if request is not None:
            if not request.message_id:
                request.message_id = row.message_id
            lifecycle.mark_sent(
                session, request, now, rules_dir=settings.rules_path, timezone=settings.schedule.timezone
            )


def find_in_archive(archive: Archive, message_id: str, since: dt.datetime | None) -> Archived | None:
    """Look for our Message-ID among archive entries written since `since` (Maildir keys start with the time)."""

    floor = int(since.timestamp()) - 300 if since is not None else None
    for key in archive.keys():
        if floor is not None:
            head = key.split(".", 1)[0]
            if head.isdigit() and int(head) < floor:
                continue
        raw = archive.get(key)
        if header_of(raw, "Message-ID") == message_id:
            return Archived(key=key, sha256=sha256_hex(raw), size=len(raw))
    return None

