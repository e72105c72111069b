"""Drain the outbox over SMTP exactly once: claim rows, send, and record the outcome; a crash never mails twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.config import ConfigError, Settings, SmtpSettings
from agent.db.models import Outbox, Request, ReviewItem
from agent.mail.archive import Archive, Archived, ArchiveError
from agent.mail.smtp_login import smtp_client, smtp_connect
from agent.outbox.backoff import retry_delay
from agent.outbox.envelope import EnvelopeError, check_envelope
from agent.outbox.ratelimit import AgencyBudget
from agent.outbox.reconcile import reconcile_stuck
from agent.outbox.record import record_sent
from agent.outbox.sentfolder import append_sent
from agent.requests import lifecycle, states

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    reconciled: int = 0  # rows left in `sending` by a crash and proven sent
    uncertain: int = 0  # rows left in `sending` that no evidence could settle
    requeued: int = 0  # rows left in `sending` before their SMTP conversation began: safe to send again
    cancelled: int = 0  # letters and follow-ups whose request was closed while they waited


@dataclass(frozen=True)
class Claimed:
    """A snapshot of one claimed row: the SMTP conversation never touches the ORM object."""

    id: int
    message_id: str
    kind: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int


@dataclass(frozen=True)
class Outcome:
    result: Literal["sent", "retry", "failed", "lost"]  # lost: another daemon took the row over meanwhile
    code: int | None
    error: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def drain_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    worker_id: str,
    now: dt.datetime | None = None,
    batch_size: int = 50,
) -> DrainReport:
    """Settle rows a crash left behind, then send what is queued and due; return what happened."""
    now = now or _now()
    rec = await reconcile_stuck(settings, sessions, worker_id=worker_id, now=now)
    claimed, limited, cancelled = _claim(sessions, settings, worker_id=worker_id, now=now, limit=batch_size)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for item in claimed:
        outcome = await _attempt(settings.smtp, item, lambda item=item: _mark_started(sessions, item.id, worker_id))
        if outcome.result == "lost":
            continue
        if outcome.result == "sent":
            archived = await _archive_copy(settings, item)
            _commit_sent(settings, sessions, item, archived, now)
        else:
            _commit_failure(settings, sessions, item, outcome, now)
        counts[outcome.result] += 1
    return DrainReport(
        claimed=len(claimed),
        sent=counts["sent"],
        retried=counts["retry"],
        failed=counts["failed"],
        rate_limited=limited,
        reconciled=rec.proven_sent,
        uncertain=rec.uncertain,
        requeued=rec.requeued,
        cancelled=cancelled,
    )


# Mail that only makes sense while its request is open. A letter re-queued after a temporary failure must
# not reach an agency after the request was withdrawn, nor a reminder after the agency answered in full.
_STALE_WHEN = {"request": frozenset({"withdrawn"}), "followup": frozenset(states.CLOSED)}


def _claim(
    sessions: sessionmaker[Session], settings: Settings, *, worker_id: str, now: dt.datetime, limit: int
) -> tuple[list[Claimed], int, int]:
    """Mark due rows `sending` (committed) before any connection is made, so a crash leaves a trace.

    Returns (claimed, rate-limited, cancelled because their request closed meanwhile)."""
    claimed: list[Claimed] = []
    limited = cancelled = 0
    with sessions.begin() as session:
        query = (
            select(Outbox)
            .where(Outbox.state == "queued", Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Several daemons drain one outbox: each takes rows nobody holds and never waits for them.
            query = query.with_for_update(skip_locked=True)
        budget = AgencyBudget(session, now, settings.smtp.per_agency_per_hour)
        rows = list(session.scalars(query))
        request_states = _request_states(session, rows)
        for row in rows:
            if request_states.get(row.request_id) in _STALE_WHEN.get(row.kind, ()):
                cancelled += session.execute(
                    update(Outbox)
                    .where(Outbox.id == row.id, Outbox.state == "queued")
                    .values(state="cancelled", last_error=f"request {request_states[row.request_id]} before sending")
                    .execution_options(synchronize_session=False)
                ).rowcount
                continue
            if not budget.take(row.agency_id):
                limited += 1
                continue
            # Conditional on `queued`: on SQLite the read above held no lock, so another sender may have won.
            taken = session.execute(
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.state == "queued")
                .values(
                    state="sending", claimed_by=worker_id, claimed_at=now, smtp_started_at=None,
                    attempts=Outbox.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                continue
            session.refresh(row)
            claimed.append(
                Claimed(
                    id=row.id,
                    message_id=row.message_id,
                    kind=row.kind,
                    sender=row.sender,
                    recipients=tuple(row.recipients),
                    raw=row.raw,
                    attempts=row.attempts,
                )
            )
    return claimed, limited, cancelled


def _request_states(session: Session, rows: list[Outbox]) -> dict[int, str]:
    ids = sorted({r.request_id for r in rows if r.request_id is not None and r.kind in _STALE_WHEN})
    if not ids:
        return {}
    return dict(session.execute(select(Request.id, Request.state).where(Request.id.in_(ids))).all())


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _client(smtp: SmtpSettings) -> aiosmtplib.SMTP:
    if smtp.security == "plain" and smtp.host not in LOOPBACK:
        # The config loader refuses this too; settings built in code must not slip past it.
        raise ConfigError(f"smtp.security = 'plain' is allowed only for a loopback host, not {smtp.host!r}")
    return smtp_client(smtp)


def _mark_started(sessions: sessionmaker[Session], row_id: int, worker_id: str) -> bool:
    """Committed before MAIL FROM: from here on a crash leaves the row in doubt, before it the row is safe.

    Conditional on our claim: a long batch can outlive the lease, and then another daemon may have
    requeued the row; in that case we must not send it too. Refreshing claimed_at renews the lease.
    """
    now = _now()
    with sessions.begin() as session:
        taken = session.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.state == "sending", Outbox.claimed_by == worker_id)
            .values(smtp_started_at=now, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return taken == 1


async def _attempt(smtp: SmtpSettings, item: Claimed, mark_started: Callable[[], bool]) -> Outcome:
    """One SMTP conversation for one row. 4xx and timeouts are temporary; 5xx are final."""
    try:
        check_envelope(item.sender, item.recipients)
    except EnvelopeError as exc:
        return Outcome("failed", None, str(exc))
    try:
        client = _client(smtp)
    except ConfigError as exc:
        return Outcome("retry", None, str(exc))
    try:
        await smtp_connect(client, smtp)
        if not await asyncio.to_thread(mark_started):
            return Outcome("lost", None, None)
        refused, _ = await client.sendmail(item.sender, list(item.recipients), item.raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        final = all(code >= 500 for code in codes)
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        return Outcome("failed" if final else "retry", max(codes) if codes else None, f"recipients refused: {detail}")
    except aiosmtplib.SMTPAuthenticationError as exc:
        # Wrong credentials are our configuration, not the message: keep it queued until they are fixed.
        return Outcome("retry", exc.code, f"authentication failed: {exc.code} {exc.message}")
    except aiosmtplib.SMTPResponseException as exc:
        final = exc.code >= 500
        return Outcome("failed" if final else "retry", exc.code, f"{exc.code} {exc.message}")
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        # Connection refused or dropped, TLS failure, timeout: try again later.
        return Outcome("retry", None, f"{type(exc).__name__}: {exc}")
    finally:
        # The server said 250 (or did not); a failing QUIT must not turn a delivered mail into a retry.
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            client.close()
    note = None
    if refused:
        note = "some recipients refused: " + "; ".join(f"{a}: {r.code} {r.message}" for a, r in refused.items())
    return Outcome("sent", 250, note)


async def _archive_copy(settings: Settings, item: Claimed) -> Archived | None:
    """Keep the exact bytes we sent (and a copy in the IMAP Sent folder), before the row is marked sent.

    Written before the DB commit so a crash in between can be settled by finding this Message-ID.
    A failure here is logged, never retried: the server has the mail, sending again would duplicate it.
    """
    archived: Archived | None = None
    try:
        archived = await asyncio.to_thread(Archive(settings.archive_path).add, item.raw)
    except (ArchiveError, OSError):
        log.exception("outbox %s was sent but could not be archived", item.id)
    try:
        await asyncio.to_thread(append_sent, settings, item.raw, _now())
    except Exception:  # noqa: BLE001 - the Sent copy is a convenience; the send itself succeeded
        log.exception("outbox %s was sent but could not be appended to the Sent folder", item.id)
    return archived


def _commit_sent(
    settings: Settings, sessions: sessionmaker[Session], item: Claimed, archived: Archived | None, now: dt.datetime
) -> None:
    with sessions.begin() as session:
        row = session.get(Outbox, item.id)
        if row is None:
            return
        if archived is None:
            # Without an archive key there is no Message row; the outbox row still tells the truth.
            record_sent(session, settings, row, None, now, note="sent, but the archive copy failed")
        else:
            record_sent(session, settings, row, archived, now)


def _commit_failure(
    settings: Settings, sessions: sessionmaker[Session], item: Claimed, outcome: Outcome, now: dt.datetime
) -> None:
    with sessions.begin() as session:
        row = session.get(Outbox, item.id)
        if row is None:
            return
        row.last_code = outcome.code
        row.last_error = outcome.error
        row.claimed_by = None
        if outcome.result == "retry" and row.attempts < settings.smtp.max_attempts:
            row.state = "queued"
            row.next_attempt_at = now + retry_delay(row.attempts)
            return
        row.state = "failed"
        row.next_attempt_at = None
        why = outcome.error or "temporary failures"
        if outcome.result == "retry":
            why = f"gave up after {row.attempts} attempts; last: {why}"
        session.add(ReviewItem(kind="send_failed", request_id=row.request_id, reason=f"outbox {row.id}: {why}"))
        request = session.get(Request, row.request_id) if row.request_id is not None else None
        if request is not None and states.can(request.state, "review"):
            lifecycle.fire(
                session, request, "review", cause="system", actor="outbox",
                detail={"reason": "send_failed", "outbox_id": row.id, "code": outcome.code}, now=now,
                rules_dir=settings.rules_path,
            )
