"""Transactions around processing: a chunk of messages per transaction, and quarantine when one fails.

A poll pass commits once per chunk instead of once per message; a chunk in which any message fails is
rolled back whole and redone one message per transaction, so the failure quarantines only its own message
and the rest are applied exactly once.
"""

from __future__ import annotations

import logging
import traceback

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Message, ReviewItem
from agent.inbound.context import InboundContext
from agent.inbound.process import process_message
from agent.inbound.reader import BudgetExceeded
from agent.mail.limits import storable
from agent.pipeline.thread_context import ThreadMemory

log = logging.getLogger(__name__)

# Messages processed per transaction in a poll pass: one commit per chunk instead of per message, while a
# crash or a failure costs at most this many messages' work (they are still "new" and are redone).
CHUNK = 50


def process_rows(
    sessions: sessionmaker[Session], rows: list[tuple[int, bytes]], ctx: InboundContext, *, chunk: int | None = None
) -> list[tuple[str, bool]]:
    """Process a recorded batch, a chunk per transaction; a chunk with a failing message is redone one by one,
    so the failure quarantines only its own message."""
    results: list[tuple[str, bool]] = []
    chunk = chunk or CHUNK
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        try:
            with sessions.begin() as session:
                # Kept across chunks of the pass once committed: it then describes what the DB holds.
                ctx.memory = ctx.memory or ThreadMemory()
                done = [_process_in(session, row_id, raw, ctx) for row_id, raw in part]
                ctx.memory.write(session)
        except Exception as exc:  # noqa: BLE001 - rolled back whole; retried singly below
            log.info("chunk of %d rolled back (%s: %s); processing one by one", len(part), type(exc).__name__, exc)
            ctx.forget()
            done = [process_row(sessions, row_id, raw, ctx) for row_id, raw in part]
        results.extend(done)
    return results


def _process_in(session: Session, row_id: int, raw: bytes, ctx: InboundContext) -> tuple[str, bool]:
    row = session.get(Message, row_id)
    if row is None:
        return "missing", False
    if row.status != "new":
        return row.status, row.request_id is not None  # another pass got here first
    process_message(session, row, raw, ctx)
    return row.status, row.request_id is not None


def process_row(sessions: sessionmaker[Session], row_id: int, raw: bytes, ctx: InboundContext) -> tuple[str, bool]:
    """Process in its own transaction -> (status, matched); a failure quarantines the row, kept with the reason."""
    try:
        with sessions.begin() as session:
            return _process_in(session, row_id, raw, ctx)
    except Exception as exc:  # noqa: BLE001 - a bad message must never stop the inbox
        reason = str(exc) if isinstance(exc, BudgetExceeded) else f"{type(exc).__name__}: {exc}"
        log.warning("message %s quarantined: %s", row_id, reason)
        log.debug("%s", traceback.format_exc())
        quarantine(sessions, row_id, reason)
        return "quarantined", False


def quarantine(sessions: sessionmaker[Session], row_id: int, reason: str) -> None:
    """Mark the row quarantined with the reason (made storable); never raises for a reason the DB refuses."""
    reason = storable(reason, 2000)
    try:
        _quarantine(sessions, row_id, reason)
    except SQLAlchemyError as exc:
        # The reason quotes the message; if even the escaped text is refused, a plain one still settles the row.
        log.warning("message %s: quarantine reason not stored (%s); storing a plain one", row_id, type(exc).__name__)
        _quarantine(sessions, row_id, f"processing failed ({type(exc).__name__} while storing the reason)")


def _quarantine(sessions: sessionmaker[Session], row_id: int, reason: str) -> None:
    with sessions.begin() as session:
        row = session.get(Message, row_id)
        if row is None:
            return
        row.status = "quarantined"
        row.error = reason[:2000]
        # One open item per quarantined message, however often a retry fails again.
        item = session.scalar(
            select(ReviewItem).where(
                ReviewItem.message_row_id == row_id, ReviewItem.kind == "quarantined", ReviewItem.state == "open"
            )
        )
        if item is None:
            session.add(ReviewItem(kind="quarantined", message_row_id=row_id, request_id=row.request_id, reason=reason[:2000]))
        else:
            item.reason = reason[:2000]
