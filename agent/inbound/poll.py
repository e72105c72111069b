"""One pass over the inbox: finish anything recorded but unprocessed, then fetch, record and process new mail."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.db.models import Message, Outbox, Request
from agent.inbound.context import InboundContext
from agent.inbound.crash import crash_point
from agent.inbound.ingest import poll_state, read_checkpoint, record_batch
from agent.inbound.transactions import process_row, process_rows, quarantine
from agent.mail.archive import ArchiveError
from agent.mail.inbox import Inbox, InboxConnectionError
from agent.mail.own_mail import message_ids, own_mail_reason

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    orphaned: int = 0
    quarantined: int = 0
    recovered: int = 0  # recorded by an earlier pass that stopped before processing them
    own: int = 0  # our own sent mail shown back to us by the provider: archived, not read as replies
    awaiting_ocr: int = 0  # matched replies whose attached scan waits for the OCR job (counted in matched too)

    def count(self, status: str, row_matched: bool) -> None:
        if status == "awaiting_ocr":
            self.awaiting_ocr += 1
        if status == "quarantined":
            self.quarantined += 1
        elif row_matched:
            self.matched += 1
        elif status == "orphan":
            self.orphaned += 1

    def line(self) -> str:
        return (
            f"new={self.new} duplicates={self.duplicates} matched={self.matched} "
            f"orphaned={self.orphaned} quarantined={self.quarantined}"
        )


def poll_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    inbox: Inbox,
    *,
    rules: Any = None,
    now: Callable[[], dt.datetime] | None = None,
    context: InboundContext | None = None,
) -> PollReport:
    """Fetch everything after the checkpoint; each batch is archived and recorded before it is processed.

    `rules` is what agent.pipeline.understand.load_understand_rules() returned, loaded once by the caller.
    """
    report = PollReport()
    ctx = context
    # One short read: an idle poll should cost one query and one SEARCH, nothing more (autocommit: no
    # BEGIN/ROLLBACK round trips for a single read).
    with sessions(bind=_autocommit(sessions)) as session:
        checkpoint, waiting = poll_state(session, inbox.account, inbox.folder)
        pending = (
            list(
                session.scalars(
                    select(Message.id).where(Message.status == "new", Message.direction == "in").order_by(Message.id)
                )
            )
            if waiting
            else []
        )
    if pending:
        ctx = ctx or InboundContext.create(settings, rules, now=now)
        for row_id in pending:
            _process_recovered(sessions, row_id, ctx, report)
        with sessions() as session:
            checkpoint = read_checkpoint(session, inbox.account, inbox.folder)
    for index, part in enumerate(inbox.parts):
        if part.since_floor is None:
            part.since_floor = lambda: first_filing_date(sessions)
        if index:
            with sessions() as session:
                checkpoint = read_checkpoint(session, part.account, part.folder)
        for batch in part.batches(checkpoint):
            ctx = ctx or InboundContext.create(settings, rules, now=now)
            recorded = record_batch(sessions, ctx.archive, account=part.account, folder=part.folder, batch=batch)
            part.acknowledge(batch)
            report.new += len(recorded.new_rows)
            report.duplicates += recorded.duplicates
            if recorded.new_rows:
                crash_point("after_checkpoint")
            rows = _set_aside_own_mail(settings, sessions, recorded.new_rows, report)
            for status, matched in process_rows(sessions, rows, ctx):
                report.count(status, matched)
    return report


def first_filing_date(sessions: sessionmaker[Session]) -> dt.date | None:
    """The day the first request was filed: no agency reply can be older, so a resync starts there."""
    with sessions() as session:
        first = session.scalar(select(func.min(Request.filed_at)))
    return first.date() if first is not None else None


def _set_aside_own_mail(
    settings: Settings, sessions: sessionmaker[Session], rows: list[tuple[int, bytes]], report: PollReport
) -> list[tuple[int, bytes]]:
    """Mail we sent (From our identity, or a Message-ID in the outbox) is kept, marked, and not processed."""
    if not rows:
        return rows
    ids = message_ids([raw for _, raw in rows])
    with sessions() as session:
        sent = set(session.scalars(select(Outbox.message_id).where(Outbox.message_id.in_(ids)))) if ids else set()
    keep: list[tuple[int, bytes]] = []
    own: list[tuple[int, str]] = []
    for row_id, raw in rows:
        reason = own_mail_reason(raw, settings.identity, sent)
        if reason is None:
            keep.append((row_id, raw))
        else:
            own.append((row_id, reason))
    if own:
        with sessions.begin() as session:
            for row_id, reason in own:
                session.execute(
                    update(Message).where(Message.id == row_id).values(status="own", error=reason)
                    .execution_options(synchronize_session=False)
                )
        report.own += len(own)
    return keep


def _autocommit(sessions: sessionmaker[Session]) -> Engine:
    engine: Engine = sessions.kw["bind"]
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def watch(
    settings: Settings,
    sessions: sessionmaker[Session],
    inbox: Inbox,
    *,
    stop: threading.Event,
    rules: Any = None,
    on_report: Callable[[PollReport], None] | None = None,
    wait_seconds: float = 30.0,
) -> None:
    """Poll, then wait (IDLE) for more, until `stop` is set; a lost server is retried, never fatal."""
    backoff = 0.5
    while not stop.is_set():
        try:
            report = poll_once(settings, sessions, inbox, rules=rules)
            backoff = 0.5
            if on_report is not None:
                on_report(report)
            if stop.is_set():
                break
            inbox.wait_for_mail(wait_seconds)
        except InboxConnectionError as exc:
            log.warning("inbox unavailable: %s; retrying in %.1fs", exc, backoff)
            inbox.close()
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)


# A message whose processing kills the process (out of memory, a native crash) would otherwise be
# retried on every start, forever: after this many interrupted attempts it is quarantined instead.
MAX_INTERRUPTED = 2
_INTERRUPTED = "processing interrupted"


def _process_recovered(sessions: sessionmaker[Session], row_id: int, ctx: InboundContext, report: PollReport) -> None:
    with sessions.begin() as session:
        row = session.get(Message, row_id)
        if row is None or row.status != "new":
            return
        key = row.archive_key
        attempts = _interrupted_attempts(row.error)
        if attempts < MAX_INTERRUPTED:
            row.error = f"{_INTERRUPTED} {attempts + 1} time(s); retrying"
    if attempts >= MAX_INTERRUPTED:
        quarantine(sessions, row_id, f"{_INTERRUPTED} {attempts} times: the message may crash the agent")
        report.quarantined += 1
        return
    try:
        raw = ctx.archive.get(key) if key else None
    except ArchiveError:
        raw = None
    if raw is None:
        quarantine(sessions, row_id, f"archive has no message with key {key!r}")
        report.quarantined += 1
        return
    report.recovered += 1
    report.count(*process_row(sessions, row_id, raw, ctx))


def _interrupted_attempts(error: str | None) -> int:
    if not error or not error.startswith(_INTERRUPTED):
        return 0
    try:
        return int(error[len(_INTERRUPTED) :].split()[0])
    except (IndexError, ValueError):
        return 1
