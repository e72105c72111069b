"""Read a message's attachments (agent.documents) and hand understanding the attached letters' words.

Each file goes to read_document, which reads it in a child process of its own under the `[attachments]`
limits. It is deliberately not read inside the message's reading worker (agent.inbound.worker): that worker's
verdict on a message over budget quarantines the whole message, while a hostile file (zip bomb, malformed PDF,
a timeout) must fail alone, recorded on its attachment, and the message still be read from its body.
OCR is slow, so ingest never runs it: a scan comes back "ocr_pending" and agent.inbound.ocr_job reads it
later, outside the ingest transaction, then processes the message again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.config import AttachmentSettings
from agent.db.models import Attachment, Message, ReviewItem
from agent.documents.reading import DocumentReading, limits_from, read_document
from agent.documents.sniff import IMAGES
from agent.mail import limits
from agent.pipeline.attachment_kinds import LETTER_METHODS
from agent.pipeline.stage_data import AttachmentInfo, ParsedMessage

OCR_PENDING = "ocr_pending"
# Prefix of the error the OCR job records: such a failure is final (re-reading would only queue it again).
OCR_FAILED = "OCR: "
OCR_OFF = "not read: OCR is off ([attachments] ocr = false)"
FAILED_ITEM = "attachment_failed"
# An image smaller than this is a logo or a signature in the mail's footer, not a scanned page: it is not OCRed
# (and the reply does not wait for it). A page scanned at 150 dpi or more is tens of kilobytes at least.
MIN_SCAN_IMAGE_BYTES = 12_000
TOO_SMALL = "not read: an image too small to be a scanned page (a logo or signature)"

Readings = tuple[DocumentReading | None, ...]  # one per parsed attachment; None: not read (over the cap, reading off)


def earlier_readings(session: Session, message_row_id: int) -> dict[str, DocumentReading]:
    """How this message's files were read before, by content hash (scans not yet OCRed left out).

    Re-deriving (reprocess, or the OCR job's own second pass) reads every file again, but a scan keeps what the
    OCR job made of it: OCR is slow, and a scan whose OCR failed must not go back to the queue."""
    found: dict[str, DocumentReading] = {}
    rows = session.scalars(
        select(Attachment).where(Attachment.message_row_id == message_row_id, Attachment.read_at.is_not(None))
    )
    for row in rows:
        if row.sha256 and row.method and row.method != OCR_PENDING and row.error != OCR_OFF:
            found[row.sha256] = DocumentReading(
                sniffed_type=row.sniffed_type or "", method=row.method or "failed", text=row.text or "",
                pages=row.pages, error=row.error or "",
            )
    return found


def read_attachments(
    parsed: ParsedMessage,
    attachments: AttachmentSettings,
    *,
    earlier: Mapping[str, DocumentReading] | None = None,
    ocr: bool = False,
) -> Readings:
    """Read every attachment we hold the bytes of; never raises for a bad file (its reading says "failed").

    ocr=True (the one-file `agent classify`) OCRs scans now; otherwise they come back ocr_pending, or with
    `[attachments] ocr = false` as not read at all."""
    if not attachments.read or not parsed.attachments:
        return tuple(None for _ in parsed.attachments)
    reading_limits = limits_from(attachments)
    out: list[DocumentReading | None] = []
    for info in parsed.attachments:
        if info.payload is None:
            out.append(None)
            continue
        reading = read_document(
            info.payload, filename=info.filename, declared_type=info.content_type, ocr=ocr and attachments.ocr,
            limits=reading_limits,
        )
        known = (earlier or {}).get(info.sha256 or "")
        if reading.method == OCR_PENDING and reading.sniffed_type in IMAGES and len(info.payload) < MIN_SCAN_IMAGE_BYTES:
            reading = dataclasses.replace(reading, method="none", error=TOO_SMALL)
        elif reading.method == OCR_PENDING and known is not None:
            reading = known  # the OCR job read this scan already
        elif reading.method == OCR_PENDING and not attachments.ocr:
            reading = dataclasses.replace(reading, method="none", error=OCR_OFF)
        out.append(reading)
    return tuple(out)


def record_readings(rows: Sequence[Attachment], readings: Readings, now: dt.datetime) -> None:
    """Fill each attachment row from its reading (rows and readings in the message's order)."""
    for row, reading in zip(rows, readings):
        if reading is None:
            continue
        fill_row(row, reading, now)


def fill_row(row: Attachment, reading: DocumentReading, now: dt.datetime) -> None:
    text = limits.without_nul(reading.text)
    row.sniffed_type = reading.sniffed_type[:100] or None
    row.method = reading.method
    row.text = text or None
    row.text_chars = len(text)
    row.pages = reading.pages
    row.error = limits.storable(reading.error, 2000) or None
    row.read_at = now


def for_understanding(parsed: ParsedMessage, readings: Readings) -> ParsedMessage:
    """The message as understanding reads it: the letters' words as attachment_text, each attachment's sniffed
    type and method, and no payloads (understanding never reads bytes; the worker need not be sent them)."""
    if not parsed.attachments:
        return parsed
    infos: list[AttachmentInfo] = []
    letters: list[str] = [parsed.attachment_text] if parsed.attachment_text.strip() else []
    for info, reading in zip(parsed.attachments, readings):
        if reading is None:
            infos.append(dataclasses.replace(info, payload=None))
            continue
        infos.append(dataclasses.replace(info, payload=None, sniffed_type=reading.sniffed_type, method=reading.method))
        if reading.method in LETTER_METHODS and reading.text.strip():
            letters.append(reading.text.strip())
    return dataclasses.replace(parsed, attachments=tuple(infos), attachment_text="\n\n".join(letters))


def awaiting_ocr(readings: Readings) -> bool:
    return any(r is not None and r.method == OCR_PENDING for r in readings)


def failed_files(parsed: ParsedMessage, readings: Readings) -> list[str]:
    """"name: why" for each attachment that could not be read."""
    return [
        f"{info.filename}: {reading.error or 'unreadable'}"
        for info, reading in zip(parsed.attachments, readings)
        if reading is not None and reading.method == "failed"
    ]


def flag_unread_letter(session: Session, message: Message, failures: Sequence[str]) -> None:
    """Say why a person must read this reply when its letter is in a file that failed to read.

    A cover note whose letter could not be read is never applied by itself (agent.pipeline.autoapply), so
    applying it has just opened a review item; that item becomes "attachment_failed" and names the files
    and why they failed. With a real body the reply was read from it, and the failure stays on the attachment
    (`agent thread` shows it)."""
    if not failures:
        return
    opened = [i for i in session.new if isinstance(i, ReviewItem)] + list(
        session.scalars(select(ReviewItem).where(ReviewItem.message_row_id == message.id, ReviewItem.state == "open"))
    )
    for item in opened:
        if item.message_row_id == message.id and item.kind == "low_confidence":
            item.kind = FAILED_ITEM
            item.reason = limits.storable(
                f"the attached letter could not be read ({'; '.join(failures)}); open it by hand. {item.reason}", 2000
            )
