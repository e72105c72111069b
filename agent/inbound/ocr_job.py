"""The OCR job: read the scans ingest left "ocr_pending", oldest first, then read their messages again.

Tesseract takes seconds a page, so it never runs inside an ingest transaction: the file is read from the
attachment store with no transaction open, its words are stored in a short one, and once a message has no
scan left waiting it is processed again through the reprocess path (its understanding applied if it never
was). A failure is recorded on the attachment and the message is then read from its body alone: a message
never stays waiting.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.db.models import Attachment
from agent.documents.reading import DocumentReading, limits_from, read_document
from agent.inbound.attachment_reading import OCR_FAILED, OCR_OFF, OCR_PENDING, fill_row
from agent.inbound.context import InboundContext
from agent.inbound.reprocess import reprocess

log = logging.getLogger(__name__)

# Files OCRed in one run at most; the job is asked to run again at once when more are waiting.
FILES_PER_RUN = 5


@dataclass
class OcrReport:
    read: int = 0  # files OCRed (method ocr, or text if a text layer turned up after all)
    failed: int = 0
    messages: int = 0  # messages read again once their last scan was done
    left: int = 0  # files still waiting after this run


@dataclass(frozen=True)
class _Pending:
    attachment_id: int
    message_row_id: int
    stored_path: str | None
    filename: str
    content_type: str


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Attachment).where(Attachment.method == OCR_PENDING)) or 0)


def run_ocr(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    rules: Any = None,
    now: Callable[[], dt.datetime] | None = None,
    context: InboundContext | None = None,
    max_files: int = FILES_PER_RUN,
    stopping: threading.Event | None = None,
) -> OcrReport:
    """OCR up to max_files waiting scans (oldest message first); stops between files when `stopping` is set."""
    report = OcrReport()
    ctx = context
    for _ in range(max_files):
        if stopping is not None and stopping.is_set():
            break
        pending = _next_pending(sessions)
        if pending is None:
            break
        ctx = ctx or InboundContext.create(settings, rules, now=now)
        reading = _ocr(settings, ctx, pending)
        if reading.method == "failed":
            report.failed += 1
        else:
            report.read += 1
        if _store(sessions, pending, reading, ctx.now()):
            reprocess(sessions, ctx, [pending.message_row_id])
            report.messages += 1
    with sessions() as session:
        report.left = pending_count(session)
    return report


def _next_pending(sessions: sessionmaker[Session]) -> _Pending | None:
    with sessions() as session:
        row = session.execute(
            select(Attachment.id, Attachment.message_row_id, Attachment.stored_path, Attachment.filename, Attachment.content_type)
            .where(Attachment.method == OCR_PENDING)
            .order_by(Attachment.message_row_id, Attachment.id)
            .limit(1)
        ).first()
    return _Pending(*row) if row is not None else None


def _ocr(settings: Settings, ctx: InboundContext, pending: _Pending) -> DocumentReading:
    """The file's OCR reading; a missing file, OCR switched off or any error becomes a recorded failure."""
    if not settings.attachments.ocr:
        return DocumentReading(sniffed_type="", method="none", error=OCR_OFF)
    if pending.stored_path is None:
        return DocumentReading(sniffed_type="", method="failed", error=OCR_FAILED + "the file was not stored")
    try:
        payload = ctx.attachments.read(pending.stored_path)
    except OSError as exc:
        return DocumentReading(sniffed_type="", method="failed", error=f"{OCR_FAILED}stored file unreadable ({exc.strerror or exc})")
    try:
        reading = read_document(
            payload, filename=pending.filename, declared_type=pending.content_type, ocr=True,
            limits=limits_from(settings.attachments),
        )
    except Exception as exc:  # noqa: BLE001 - read_document should not raise; if it does, the message must not stay stuck
        log.warning("OCR of attachment %s failed: %s", pending.attachment_id, type(exc).__name__)
        return DocumentReading(sniffed_type="", method="failed", error=f"{OCR_FAILED}{type(exc).__name__}")
    if reading.method == OCR_PENDING:  # cannot happen with ocr=True; never queue the file again
        return dataclasses.replace(reading, method="failed", error=OCR_FAILED + "OCR did not run")
    if reading.method == "failed":
        return dataclasses.replace(reading, error=OCR_FAILED + (reading.error or "unreadable"))
    return reading


def _store(sessions: sessionmaker[Session], pending: _Pending, reading: DocumentReading, now: dt.datetime) -> bool:
    """Record the reading; True when the message has no scan left waiting (it is then read again)."""
    with sessions.begin() as session:
        row = session.get(Attachment, pending.attachment_id)
        if row is None or row.method != OCR_PENDING:
            return False  # reprocessed meanwhile: its new rows are in the queue, or were read already
        previous_type = row.sniffed_type
        fill_row(row, reading, now)
        row.sniffed_type = row.sniffed_type or previous_type
        session.flush()
        left = session.scalar(
            select(func.count()).select_from(Attachment).where(
                Attachment.message_row_id == pending.message_row_id, Attachment.method == OCR_PENDING
            )
        )
    return not left
