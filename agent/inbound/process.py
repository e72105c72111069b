"""Process one recorded message: parse -> match -> understand -> apply, in the caller's transaction.

How messages are grouped into transactions, and what happens when one fails, is agent.inbound.transactions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agent.db.models import Attachment, FetchedFile, Message, Request, ReviewItem, TrackingNumber
from agent.inbound import attachment_reading
from agent.inbound.context import InboundContext
from agent.inbound.match_index import build_match_index
from agent.inbound.sent_letters import proof_for
from agent.mail import limits
from agent.pipeline import amounts
from agent.pipeline.apply import apply_message
from agent.pipeline.match import Match, match
from agent.pipeline.thread_context import ThreadMemory
from agent.pipeline.stage_data import ParsedMessage, Understanding

log = logging.getLogger(__name__)


def process_message(
    session: Session, message_row: Message, raw: bytes, ctx: InboundContext, *, apply_effects: bool = True
) -> None:
    """Fill the row from the raw bytes and act on it. Raises on failure; the caller quarantines.

    apply_effects=False (reprocessing a row already applied) refreshes the derived fields only.
    The message's changes are flushed once, at the end (and where a read must see them), instead of before
    every query: the ORM's per-flush work was the largest single cost per message.
    """
    with session.no_autoflush:
        _process_message(session, message_row, raw, ctx, apply_effects=apply_effects)
    session.flush()


def _process_message(session: Session, message_row: Message, raw: bytes, ctx: InboundContext, *, apply_effects: bool) -> None:
    now = ctx.now()
    # A row handled before (reprocess, or a retry after quarantine) may have derived rows to replace.
    again = message_row.processed_at is not None or message_row.error is not None or message_row.status == "awaiting_ocr"
    parsed = ctx.reader.parse(raw, max_attachment_bytes=ctx.settings.attachments.max_bytes)
    _fill(message_row, parsed)
    earlier = attachment_reading.earlier_readings(session, message_row.id) if again and parsed.attachments else {}
    stored = _store_attachments(session, message_row, parsed, ctx, replace=again)
    # Each file in a child of its own (agent.inbound.attachment_reading); OCR waits for the OCR job.
    readings = attachment_reading.read_attachments(parsed, ctx.settings.attachments, earlier=earlier)
    attachment_reading.record_readings(stored, readings, now)
    parsed = attachment_reading.for_understanding(parsed, readings)
    waits_for_ocr = parsed.kind == "reply" and attachment_reading.awaiting_ocr(readings)

    index = build_match_index(
        session,
        parsed,
        tracking_rules=ctx.tracking_rules,
        reference_prefix=ctx.settings.identity.reference_prefix,
        agencies=ctx.agencies(session),
    )
    result = match(parsed, index)
    message_row.match_evidence = result.evidence_json() + _sender_evidence(parsed, result) + [
        {"kind": "decision", "request_id": result.request_id, "detail": result.reason}
    ]
    if again:
        # An earlier orphan/quarantine item for this row (from a previous attempt) is superseded by this one.
        session.execute(
            delete(ReviewItem).where(
                ReviewItem.message_row_id == message_row.id,
                ReviewItem.state == "open",
                ReviewItem.kind.in_(("orphan", "spoof", "quarantined")),
            )
        )

    request = session.get(Request, result.request_id) if result.request_id is not None else None
    message_row.request_id = request.id if request is not None else None
    # In a chunk the caller writes the memory's counts at the end; a lone message writes its own.
    memory = ctx.memory
    lone = memory is None
    if memory is None:
        memory = ThreadMemory()
    if request is not None and parsed.kind == "reply" and not result.sender_unknown:
        memory.remember_tracking_numbers(request.id, learn_tracking_numbers(session, request, result.tracking_numbers, now))

    # A reply whose letter is a scan waiting for OCR is read (and applied) once the OCR job has its words.
    understanding = None if waits_for_ocr and request is not None else _understand(session, parsed, request, ctx, memory)
    if understanding is not None:
        message_row.label = understanding.label
        message_row.confidence = understanding.confidence
        message_row.rule_hits = list(understanding.rules)
        # Capped: the stored text is context for every later reply of the thread (the archive has it all).
        message_row.cleaned_text = limits.truncate(limits.without_nul(understanding.cleaned_text), limits.MAX_CLEANED_CHARS)
        message_row.folded = _folded(understanding)
        message_row.facts = _facts(understanding)
        if request is not None and not result.sender_unknown:
            memory.remember_reply(request.id, message_row.cleaned_text, message_row.folded)
    elif parsed.kind != "reply":
        message_row.label = parsed.kind

    if request is None:
        message_row.status = "orphan"
        session.add(
            ReviewItem(
                kind="spoof" if result.spoof_suspect else "orphan",
                message_row_id=message_row.id,
                reason=result.reason,
                suggestions=[
                    {"request_id": s.request_id, "score": s.score, "reasons": list(s.reasons)} for s in result.suggestions
                ],
            )
        )
    elif waits_for_ocr:
        message_row.status = "awaiting_ocr"
    else:
        message_row.status = "processed"
        if apply_effects and (understanding is not None or parsed.kind != "reply"):
            apply_message(
                session,
                request=request,
                message=message_row,
                understanding=understanding,
                kind=parsed.kind,
                now=now,
                rules_dir=ctx.settings.rules_path,
                review_threshold=ctx.settings.classify.review_threshold,
                unknown_sender=result.sender_unknown or (result.notes[0] if result.notes else ""),
                bounce_proof=proof_for(session, parsed, request.id, ctx.settings) if parsed.kind == "bounce" else "",
                closing_threshold=ctx.settings.classify.closing_threshold,
            )
            attachment_reading.flag_unread_letter(session, message_row, attachment_reading.failed_files(parsed, readings))
    message_row.error = None
    message_row.processed_at = now
    if lone:
        memory.write(session)


def _sender_evidence(parsed: ParsedMessage, result: Match) -> list[dict[str, object]]:
    """Why the sender was not taken at its word, kept with the message for `agent explain`."""
    if parsed.sender_doubt:
        return [{"kind": "sender_doubt", "request_id": result.request_id, "detail": parsed.sender_doubt}]
    if result.sender_unknown:
        return [{"kind": "sender_unknown", "request_id": result.request_id, "detail": result.sender_unknown}]
    return []


def _fill(row: Message, parsed: ParsedMessage) -> None:
    """Header values as stored: control characters escaped, lengths and list sizes within the columns' caps."""
    row.message_id = row.message_id or parsed.message_id
    row.subject = limits.storable(parsed.subject)
    row.from_addr = limits.storable(parsed.from_addr, limits.MAX_ADDRESS_CHARS) or None
    row.to_addrs = [limits.storable(a, limits.MAX_ADDRESS_CHARS) for a in (parsed.to_addrs + parsed.cc_addrs)[: 2 * limits.MAX_ADDRESSES]]
    row.sent_date = parsed.date
    row.in_reply_to = limits.storable(parsed.in_reply_to or "", limits.MAX_ID_CHARS) or None
    row.references = [limits.storable(r, limits.MAX_ID_CHARS) for r in parsed.references[: limits.MAX_REFERENCES]]
    row.kind = parsed.kind


def _store_attachments(
    session: Session, row: Message, parsed: ParsedMessage, ctx: InboundContext, *, replace: bool
) -> list[Attachment]:
    """The attachment rows, in the message's order."""
    if replace:
        # A file fetched from a link in an attached letter keeps its record; only the pointer to the old row goes.
        old = select(Attachment.id).where(Attachment.message_row_id == row.id).scalar_subquery()
        session.execute(update(FetchedFile).where(FetchedFile.attachment_id.in_(old)).values(attachment_id=None))
        session.execute(delete(Attachment).where(Attachment.message_row_id == row.id))
    if not parsed.attachments:
        return []
    store = ctx.attachments
    rows = []
    for info in parsed.attachments:
        stored_path = None
        if info.payload is not None:
            digest, _ = store.put(info.payload)
            stored_path = store.key_for(digest)  # relative to the attachments root: the workspace may move
        attachment = Attachment(
            message_row_id=row.id,
            sha256=info.sha256,
            filename=info.filename,
            content_type=info.content_type[:200],
            size=info.size,
            stored_path=stored_path,
            oversized=info.oversized,
        )
        session.add(attachment)
        rows.append(attachment)
    return rows


def learn_tracking_numbers(session: Session, request: Request, numbers: Sequence[str], now: dt.datetime) -> list[str]:
    """Numbers the agency uses for this request, remembered so later mail that quotes only them still matches.

    Only for mail the agency vouches for (or a person did, in review). Returns the numbers now stored on the request."""
    if not numbers:
        return []
    known = {
        (t.request_id, t.value): t
        for t in session.scalars(
            select(TrackingNumber).where(
                TrackingNumber.agency_id == request.agency_id, TrackingNumber.value.in_(list(numbers))
            )
        )
    }
    stored = []
    for value in dict.fromkeys(numbers):
        existing = known.get((request.id, value))
        if existing is not None:
            existing.last_seen = now
            stored.append(value)
        elif not any(v == value for _, v in known):
            session.add(
                TrackingNumber(request_id=request.id, agency_id=request.agency_id, value=value, first_seen=now, last_seen=now)
            )
            stored.append(value)
        # else: the agency already uses it for another request; never move it silently
    return stored


def _understand(
    session: Session, parsed: ParsedMessage, request: Request | None, ctx: InboundContext, memory: ThreadMemory
) -> Understanding | None:
    if ctx.understand_rules is None or parsed.kind != "reply":
        return None
    request_id = request.id if request else None
    context = memory.context(session, request_id, parsed.sender_domain)
    if request is not None:
        context = dataclasses.replace(context, agency_id=request.agency_id)
    result = ctx.reader.understand(
        parsed,
        context,
        ctx.understand_rules,
        review_threshold=ctx.settings.classify.review_threshold,
        closing_threshold=ctx.settings.classify.closing_threshold,
        corrections=ctx.corrections(session),
    )
    memory.learn(session, parsed.sender_domain, request_id, result)
    return result


def _folded(u: Understanding) -> list[dict[str, str]]:
    """Folded blocks as stored, all of them together within the thread-memory cap."""
    out: list[dict[str, str]] = []
    room = limits.MAX_CLEANED_CHARS
    for f in u.folded:
        if room <= 0:
            break
        text = limits.truncate(limits.without_nul(f.text), room)
        room -= len(text)
        out.append({"reason": f.reason, "text": text})
    return out


def _facts(u: Understanding) -> dict[str, object]:
    return {
        "expected_date": u.expected_date.isoformat() if u.expected_date else None,
        "tracking_numbers": list(u.tracking_numbers),
        "fees": [{"amount": f.amount, "currency": f.currency, "kind": f.kind, "text": f.text} for f in u.fees],
        "links": list(u.links),
        "records_attached": u.records_attached,
        # A dollar figure too large to be a fee (hundreds of digits) is kept out of "fees" and flagged here.
        "fees_refused": amounts.REFUSED_RULE in u.rules,
    }
