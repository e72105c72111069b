"""Rows left in `sending` by a crash: proven sent by their Message-ID, or set aside for a person; never resent."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.db.models import Outbox, ReviewItem
from agent.mail.archive import Archive
from agent.operators.clock import as_utc
from agent.outbox import workers
from agent.outbox.record import find_in_archive, outbound_message, record_sent
from agent.outbox.sentfolder import sent_folder_has
from agent.outbox.transaction import Timeouts

log = logging.getLogger(__name__)

# A heartbeat this old on our own host means its sender stopped mid-pass (beats come every 15 s).
DEAD_AFTER = 6 * workers.HEARTBEAT


@dataclass(frozen=True)
class ReconcileReport:
    proven_sent: int = 0
    uncertain: int = 0
    requeued: int = 0


def lease(settings: Settings) -> dt.timedelta:
    """How long a live sender may hold a row before another daemon may treat it as abandoned.

    Long enough for one slow but live conversation (the sender renews claimed_at before MAIL FROM)."""
    slowest = settings.smtp.timeout_seconds + Timeouts.of(settings.smtp).longest(recipients=1)
    return max(dt.timedelta(minutes=5), dt.timedelta(seconds=4 * settings.smtp.timeout_seconds), dt.timedelta(seconds=slowest))


def _stuck_ids(session: Session, worker_id: str, now: dt.datetime, settings: Settings) -> list[int]:
    """Rows this worker claimed before it stopped, rows of a sender known dead, and rows whose lease ran out."""
    held = session.execute(
        select(Outbox.claimed_by).where(Outbox.state == "sending", Outbox.claimed_by != worker_id).distinct()
    ).scalars()
    dead = [w.worker_id for w in workers.known(session, (h for h in held if h)) if workers.is_dead(w, now, DEAD_AFTER)]
    query = select(Outbox.id).where(
        Outbox.state == "sending",
        or_(
            Outbox.claimed_by == worker_id,
            Outbox.claimed_by.in_(dead),
            Outbox.claimed_at < now - lease(settings),
        ),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


async def reconcile_stuck(
    settings: Settings, sessions: sessionmaker[Session], *, worker_id: str, now: dt.datetime
) -> ReconcileReport:
    with sessions.begin() as session:
        ids = _stuck_ids(session, worker_id, now, settings)
    counts = {"sent": 0, "uncertain": 0, "requeued": 0, "gone": 0}
    for row_id in ids:
        counts[await _reconcile_one(settings, sessions, row_id, now)] += 1
    return ReconcileReport(proven_sent=counts["sent"], uncertain=counts["uncertain"], requeued=counts["requeued"])


Settled = Literal["sent", "uncertain", "requeued", "gone"]


async def settle_in_doubt(
    settings: Settings, sessions: sessionmaker[Session], row_id: int, now: dt.datetime, doubt: str
) -> Settled:
    """The server gave no clear answer after the message was sent: settle it as after a crash, never resend."""
    return await _reconcile_one(settings, sessions, row_id, now, doubt=doubt)


async def _reconcile_one(
    settings: Settings, sessions: sessionmaker[Session], row_id: int, now: dt.datetime, *, doubt: str | None = None
) -> Settled:
    with sessions.begin() as session:
        # Locked on PostgreSQL so two daemons never settle the same row at once.
        row = session.get(Outbox, row_id, with_for_update=True)
        if row is None or row.state != "sending":
            return "gone"  # another daemon settled it meanwhile
        message_id, claimed_at, raw = row.message_id, as_utc(row.claimed_at), row.raw
        if outbound_message(session, message_id) is not None:
            record_sent(session, settings, row, None, now, code=row.last_code, note="reconciled: Message row exists")
            return "sent"
        if row.smtp_started_at is None:
            # Claimed but the SMTP conversation never began: nothing can have been delivered.
            row.state = "queued"
            row.claimed_by = None
            row.next_attempt_at = now
            row.last_error = "interrupted before the SMTP conversation began; queued again"
            return "requeued"
    archive = Archive(settings.archive_path)
    found = await asyncio.to_thread(find_in_archive, archive, message_id, claimed_at)
    how = "archive"
    if found is None:
        in_sent = await asyncio.to_thread(sent_folder_has, settings, message_id)
        if in_sent:
            found = await asyncio.to_thread(archive.add, raw)
            how = "IMAP Sent folder"
    with sessions.begin() as session:
        # Locked on PostgreSQL so two daemons never settle the same row at once.
        row = session.get(Outbox, row_id, with_for_update=True)
        if row is None or row.state != "sending":
            return "gone"  # another daemon settled it meanwhile
        if found is not None:
            log.warning("outbox %s (%s) was sent before a crash; found in the %s", row_id, message_id, how)
            record_sent(session, settings, row, found, now, code=row.last_code, note=f"reconciled: found in the {how}")
            return "sent"
        # Neither sent nor unsent can be proven: a person decides; resending on our own could mail twice.
        row.state = "uncertain"
        row.next_attempt_at = None
        if doubt is None:
            row.last_error = "interrupted while sending; no copy found in the DB, archive or Sent folder"
            happened = "before a crash"
        else:
            row.last_error = f"{doubt}; no copy found in the DB, archive or Sent folder"
            happened = f"({doubt})"
        session.add(
            ReviewItem(
                kind="send_uncertain",
                request_id=row.request_id,
                reason=(
                    f"outbox {row.id} ({message_id}) may or may not have been sent {happened}; check the "
                    f"recipient's side, then `agent outbox retry {row.id}` to send it or `agent outbox cancel {row.id}`"
                ),
            )
        )
        return "uncertain"
