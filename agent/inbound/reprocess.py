"""Re-derive parsed fields, matches and readings from the archived bytes after rules or code improved."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Message
from agent.inbound.context import InboundContext
from agent.inbound.process import process_message
from agent.inbound.transactions import quarantine
from agent.mail.archive import ArchiveError


@dataclass
class ReprocessReport:
    total: int = 0
    processed: int = 0
    orphaned: int = 0
    quarantined: int = 0
    changed: list[int] = field(default_factory=list)  # rows whose request or label is now different


def select_rows(sessions: sessionmaker[Session], *, message_id: int | None = None, statuses: Iterable[str] = ()) -> list[int]:
    query = select(Message.id).where(Message.direction == "in").order_by(Message.id)
    if message_id is not None:
        query = query.where(Message.id == message_id)
    statuses = list(statuses)
    if statuses:
        query = query.where(Message.status.in_(statuses))
    with sessions() as session:
        return list(session.scalars(query))


def reprocess(
    sessions: sessionmaker[Session],
    ctx: InboundContext,
    row_ids: list[int],
    *,
    progress: Callable[[int], None] | None = None,
) -> ReprocessReport:
    """Each row in its own transaction. Effects on requests are applied only to rows never applied before
    (orphans, quarantined, new): replaying state changes twice would corrupt a request's history."""
    report = ReprocessReport(total=len(row_ids))
    for row_id in row_ids:
        _one(sessions, ctx, row_id, report)
        if progress is not None:
            progress(1)
    return report


def _one(sessions: sessionmaker[Session], ctx: InboundContext, row_id: int, report: ReprocessReport) -> None:
    try:
        with sessions.begin() as session:
            row = session.get(Message, row_id)
            if row is None:
                return
            before = (row.request_id, row.label)
            already_applied = row.status == "processed"
            raw = ctx.archive.get(row.archive_key)
            process_message(session, row, raw, ctx, apply_effects=not already_applied)
            if (row.request_id, row.label) != before and already_applied:
                report.changed.append(row_id)
            status = row.status
    except ArchiveError as exc:
        quarantine(sessions, row_id, str(exc))
        report.quarantined += 1
        return
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the rest
        quarantine(sessions, row_id, f"{type(exc).__name__}: {exc}")
        report.quarantined += 1
        return
    if status == "orphan":
        report.orphaned += 1
    else:
        report.processed += 1
