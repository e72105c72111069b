"""Drain the outbox over SMTP exactly once: claim rows, send them over one session, record the outcome; never mail twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.config import ConfigError, Settings, SmtpSettings
from agent.db.models import Outbox, Request, ReviewItem
from agent.mail.archive import Archive, Archived, ArchiveError
from agent.mail.smtp_login import SmtpTokenUnavailable, smtp_client, smtp_connect
from agent.outbox import breaker, workers
from agent.outbox.backoff import retry_delay
from agent.outbox.envelope import EnvelopeError, check_envelope
from agent.outbox.ratelimit import AccountBudget, AgencyBudget
from agent.outbox.reconcile import reconcile_stuck, settle_in_doubt
from agent.outbox.record import changed, record_sent
from agent.outbox.sentfolder import append_sent
from agent.outbox.transaction import Outcome, Timeouts, transmit
from agent.requests import lifecycle, states

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0  # due rows held back by the per-agency limit
    reconciled: int = 0  # rows left in `sending` by a crash (or answered unclearly) and proven sent
    uncertain: int = 0  # rows no evidence could settle (a crash, or no clear answer after DATA): review
    requeued: int = 0  # rows left in `sending` before their SMTP conversation began: safe to send again
    cancelled: int = 0  # letters and follow-ups whose request was closed while they waited
    account_limited: int = 0  # due rows held back by [smtp] per_minute / per_day
    released: int = 0  # claimed rows put back unsent, no attempt spent, when the server refused us
    connections: int = 0  # SMTP sessions opened in this pass (one, unless one dropped)
    paused: bool = False  # the circuit breaker holds all sending
    pause_reason: str | None = None
    paused_until: str | None = None
    remaining: int = 0  # rows still due after this pass (limits, pause, or more than one batch)
    account_limit: str | None = None  # which account limit held rows back: "per_minute" or "per_day"


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
class _Claim:
    rows: list[Claimed]
    rate_limited: int = 0
    account_limited: int = 0
    account_limit: str | None = None
    cancelled: int = 0


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
    """Settle rows a crash left behind, then send what is queued and due over one connection; say what happened."""
    now = now or _now()
    async with workers.heartbeat(sessions, worker_id, now):
        rec = await reconcile_stuck(settings, sessions, worker_id=worker_id, now=now)
        with sessions() as session:
            pause = breaker.current_pause(session)
        if pause is not None and pause.active(now):
            return DrainReport(
                reconciled=rec.proven_sent, uncertain=rec.uncertain, requeued=rec.requeued, paused=True,
                pause_reason=pause.reason, paused_until=pause.until.isoformat(), remaining=_due_count(sessions, now),
            )
        claim = _claim(sessions, settings, worker_id=worker_id, now=now, limit=batch_size)
        tally, pause = await _send_claimed(settings, sessions, claim.rows, worker_id=worker_id, now=now, pause=pause)
    return DrainReport(
        claimed=len(claim.rows),
        sent=tally["sent"],
        retried=tally["retry"],
        failed=tally["failed"],
        rate_limited=claim.rate_limited,
        reconciled=rec.proven_sent + tally["reconciled"],
        uncertain=rec.uncertain + tally["uncertain"],
        requeued=rec.requeued,
        cancelled=claim.cancelled,
        account_limited=claim.account_limited,
        account_limit=claim.account_limit,
        released=tally["released"],
        connections=tally["connections"],
        paused=pause is not None and pause.active(now),
        pause_reason=pause.reason if pause is not None and pause.active(now) else None,
        paused_until=pause.until.isoformat() if pause is not None and pause.active(now) else None,
        remaining=_due_count(sessions, now),
    )


# Figures that describe the state left behind, taken from the last pass rather than summed.
_LAST_PASS = frozenset(
    {"rate_limited", "account_limited", "account_limit", "paused", "pause_reason", "paused_until", "remaining"}
)


async def drain_due(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    worker_id: str,
    now: dt.datetime | None = None,
    batch_size: int = 50,
    max_passes: int = 1000,
) -> DrainReport:
    """Drain pass after pass until nothing due is left, or what is left cannot go now (a limit, a pause)."""
    total: dict[str, Any] = {}
    for _ in range(max_passes):
        report = await drain_once(settings, sessions, worker_id=worker_id, now=now, batch_size=batch_size)
        for name, value in asdict(report).items():
            summed = name not in _LAST_PASS and isinstance(value, int) and not isinstance(value, bool)
            total[name] = total.get(name, 0) + value if summed else value
        if report.remaining == 0 or report.paused or report.claimed == 0:
            break
    return DrainReport(**total)


async def _send_claimed(
    settings: Settings,
    sessions: sessionmaker[Session],
    claimed: list[Claimed],
    *,
    worker_id: str,
    now: dt.datetime,
    pause: breaker.Pause | None,
) -> tuple[Counter[str], breaker.Pause | None]:
    """Send the claimed rows in order over one SMTP session; a refused session pauses the rest, unspent."""
    tally: Counter[str] = Counter()
    link = _Link(settings.smtp)
    try:
        for index, item in enumerate(claimed):
            try:
                outcome = await _attempt(settings, sessions, link, item, worker_id)
            except SessionRefused as exc:
                pause = await asyncio.to_thread(_pause, settings, sessions, str(exc), now)
                log.warning("outbox paused until %s: %s", pause.until.isoformat(), exc)
                rest = [c.id for c in claimed[index:]]
                tally["released"] += await asyncio.to_thread(_release, sessions, rest, worker_id, f"not sent: {exc}")
                break
            if link.opened and pause is not None:
                await asyncio.to_thread(_lift, sessions, now)
                log.info("outbox resumed: the SMTP server accepts us again")
                pause = None
            await _settle(settings, sessions, item, outcome, now, tally)
    finally:
        tally["connections"] = link.opened
        await link.close()
    return tally, pause


async def _settle(
    settings: Settings, sessions: sessionmaker[Session], item: Claimed, outcome: Outcome, now: dt.datetime,
    tally: Counter[str],
) -> None:
    if outcome.result == "lost":
        return
    if outcome.result == "sent":
        archived = await _archive_copy(settings, item)
        _commit_sent(settings, sessions, item, archived, now)
        tally["sent"] += 1
    elif outcome.result == "uncertain":
        log.warning("outbox %s (%s): %s; not resent, it goes to review", item.id, item.message_id, outcome.error)
        settled = await settle_in_doubt(settings, sessions, item.id, now, outcome.error or "no clear answer")
        if settled in ("sent", "uncertain"):
            tally["reconciled" if settled == "sent" else "uncertain"] += 1
    else:
        _commit_failure(settings, sessions, item, outcome, now)
        tally[outcome.result] += 1


def _due_count(sessions: sessionmaker[Session], now: dt.datetime) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.state == "queued", Outbox.next_attempt_at <= now)
            )
            or 0
        )


def _pause(settings: Settings, sessions: sessionmaker[Session], reason: str, now: dt.datetime) -> breaker.Pause:
    with sessions.begin() as session:
        return breaker.trip(session, settings.smtp, reason, now)


def _lift(sessions: sessionmaker[Session], now: dt.datetime) -> None:
    with sessions.begin() as session:
        breaker.lift(session, now)


def _release(sessions: sessionmaker[Session], ids: list[int], worker_id: str, why: str) -> int:
    """Put claimed rows back as they were: their content never left, so the claim's attempt is given back."""
    if not ids:
        return 0
    with sessions.begin() as session:
        return changed(
            session,
            update(Outbox)
            .where(Outbox.id.in_(ids), Outbox.state == "sending", Outbox.claimed_by == worker_id)
            .values(state="queued", claimed_by=None, smtp_started_at=None, attempts=Outbox.attempts - 1, last_error=why),
        )


# Mail that only makes sense while its request is open. A letter re-queued after a temporary failure must
# not reach an agency after the request was withdrawn, nor a reminder after the agency answered in full.
_STALE_WHEN = {"request": frozenset({"withdrawn"}), "followup": frozenset(states.CLOSED)}


def _claim(
    sessions: sessionmaker[Session], settings: Settings, *, worker_id: str, now: dt.datetime, limit: int
) -> _Claim:
    """Mark due rows `sending` (committed) before any connection is made, so a crash leaves a trace.

    Also counts the rows held back by a limit and those cancelled because their request closed meanwhile."""
    claimed: list[Claimed] = []
    limited = account_limited = cancelled = 0
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
        account = AccountBudget(session, now, settings.smtp.per_minute, settings.smtp.per_day)
        rows = list(session.scalars(query))
        request_states = _request_states(session, rows)
        for row in rows:
            request_state = request_states.get(row.request_id) if row.request_id is not None else None
            if request_state is not None and request_state in _STALE_WHEN.get(row.kind, frozenset()):
                cancelled += changed(
                    session,
                    update(Outbox)
                    .where(Outbox.id == row.id, Outbox.state == "queued")
                    .values(state="cancelled", last_error=f"request {request_state} before sending"),
                )
                continue
            if account.exhausted:
                account_limited += 1
                continue
            if not budget.take(row.agency_id):
                limited += 1
                continue
            account.take()
            # Conditional on `queued`: on SQLite the read above held no lock, so another sender may have won.
            taken = changed(
                session,
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.state == "queued")
                .values(
                    state="sending", claimed_by=worker_id, claimed_at=now, smtp_started_at=None,
                    attempts=Outbox.attempts + 1,
                ),
            )
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
    return _Claim(
        claimed, rate_limited=limited, account_limited=account_limited,
        account_limit=account.which if account_limited else None, cancelled=cancelled,
    )


def _request_states(session: Session, rows: list[Outbox]) -> dict[int, str]:
    ids = sorted({r.request_id for r in rows if r.request_id is not None and r.kind in _STALE_WHEN})
    if not ids:
        return {}
    return dict(session.execute(select(Request.id, Request.state).where(Request.id.in_(ids))).all())


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class SessionRefused(Exception):
    """No SMTP session could be opened (refused, unreachable, TLS or login failed): never the letter's fault."""


def _client(smtp: SmtpSettings) -> aiosmtplib.SMTP:
    if smtp.security == "plain" and smtp.host not in LOOPBACK:
        # The config loader refuses this too; settings built in code must not slip past it.
        raise ConfigError(f"smtp.security = 'plain' is allowed only for a loopback host, not {smtp.host!r}")
    return smtp_client(smtp)


async def _connect(smtp: SmtpSettings) -> aiosmtplib.SMTP:
    """Connect, read the greeting, upgrade to TLS, log in; any failure raises SessionRefused with the reason."""
    where = f"{smtp.host}:{smtp.port}"
    try:
        client = _client(smtp)
    except ConfigError as exc:
        raise SessionRefused(str(exc)) from exc
    try:
        # Logs in as it connects: the password, or XOAUTH2 with a token refreshed once if refused.
        await smtp_connect(client, smtp)
    except SmtpTokenUnavailable as exc:
        client.close()
        raise SessionRefused(f"no XOAUTH2 token for {where}: {exc}") from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        client.close()
        raise SessionRefused(f"login refused by {where}: {exc.code} {exc.message}") from exc
    except ConfigError as exc:
        client.close()
        raise SessionRefused(str(exc)) from exc
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        client.close()
        if isinstance(exc, ConnectionRefusedError) or isinstance(exc.__cause__, ConnectionRefusedError):
            raise SessionRefused(f"connection refused by {where}") from exc
        raise SessionRefused(f"cannot open an SMTP session with {where}: {type(exc).__name__}: {exc}") from exc
    return client


class _Link:
    """At most one SMTP session at a time for a drain pass: opened when a row needs it, reopened if it drops."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp
        self._client: aiosmtplib.SMTP | None = None
        self.opened = 0

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def ensure(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self.drop()
        self._client = await _connect(self._smtp)
        self.opened += 1
        return self._client

    def drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        """QUIT politely; the rows are settled already, so a failing QUIT changes nothing."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit(timeout=self._smtp.timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            client.close()


def _mark_started(sessions: sessionmaker[Session], row_id: int, worker_id: str) -> bool:
    """Committed before MAIL FROM: from here on a crash leaves the row in doubt, before it the row is safe.

    Conditional on our claim: a long batch can outlive the lease, and then another daemon may have
    requeued the row; in that case we must not send it too. Refreshing claimed_at renews the lease.
    """
    now = _now()
    with sessions.begin() as session:
        taken = changed(
            session,
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.state == "sending", Outbox.claimed_by == worker_id)
            .values(smtp_started_at=now, claimed_at=now),
        )
    return taken == 1


async def _attempt(
    settings: Settings, sessions: sessionmaker[Session], link: _Link, item: Claimed, worker_id: str
) -> Outcome:
    """One row's SMTP transaction on the pass's session; a session that dropped between rows is reopened once.

    Raises SessionRefused when no session can be opened: the caller pauses the outbox."""
    try:
        check_envelope(item.sender, item.recipients)
    except EnvelopeError as exc:
        return Outcome("failed", None, str(exc))
    timeouts = Timeouts.of(settings.smtp)
    for turn in (1, 2):
        reused = link.connected
        client = await link.ensure()
        if not await asyncio.to_thread(_mark_started, sessions, item.id, worker_id):
            return Outcome("lost", None, None)
        outcome = await transmit(client, item.sender, item.recipients, item.raw, timeouts)
        if outcome.disconnected:
            link.drop()
            if reused and turn == 1:
                # The server closed an idle connection before this row's content left: not the row's fault.
                continue
        return outcome
    raise AssertionError("unreachable")


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
