"""A request's thread as one timeline: messages (cleaned, with what was folded), events, and its deadlines."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from agent.db.models import Event, Message, Request
from agent.operators.clock import as_utc
from agent.pipeline.units import fingerprint
from agent.operators.queries import days_overdue, effective_due

# How a fold reason (agent.pipeline.clean) reads in one line; unknown reasons show with spaces for underscores.
FOLD_NAMES: dict[str, str] = {
    "portal_boilerplate": "portal footer",
    "portal_instructions": "portal instructions",
    "learned_boilerplate": "sender's usual boilerplate",
    "repeated_in_thread": "notice repeated from earlier in the thread",
    "repeated_in_message": "repeated paragraph",
    "quoted": "quoted earlier mail",
    "signature": "signature",
    "disclaimer": "disclaimer",
    "our_request": "our request, echoed back",
}
OUT_PREVIEW_LINES = 6
# Folds that recur by nature; counting them tells the operator "you have read this before".
COUNTED = frozenset(
    {"portal_boilerplate", "portal_instructions", "learned_boilerplate", "repeated_in_thread", "disclaimer", "signature"}
)


@dataclass(frozen=True)
class AttachmentLine:
    filename: str
    content_type: str
    size: int
    oversized: bool
    method: str | None = None  # how it was read (agent.inbound.attachment_reading); None: never read
    text_chars: int = 0
    error: str | None = None


@dataclass(frozen=True)
class MessageEntry:
    id: int
    at: dt.datetime
    direction: str
    from_addr: str
    subject: str
    kind: str | None
    label: str | None
    confidence: float | None
    status: str
    text: str
    folded: tuple[str, ...]  # one marker per folded block, e.g. "portal footer folded, seen 4×"
    attachments: tuple[AttachmentLine, ...]
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventEntry:
    id: int
    at: dt.datetime
    kind: str
    from_state: str | None
    to_state: str | None
    cause: str
    actor: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Deadlines:
    filed: dt.datetime | None
    clock_start: dt.date | None
    due: dt.date | None
    extended_due: dt.date | None
    promised: dt.date | None
    effective_due: dt.date | None
    days_overdue: int | None
    next_action: dt.date | None
    followups_sent: int


@dataclass(frozen=True)
class Thread:
    id: int
    reference: str
    agency: str
    state: str
    subject: str
    tracking_numbers: tuple[str, ...]
    deadlines: Deadlines
    entries: tuple[MessageEntry | EventEntry, ...]
    letter: str  # our request text, shown with --full


def build_thread(
    session: Session, request: Request, *, today: dt.date, full: bool = False, archive_root: Path | None = None
) -> Thread:
    """Everything on one request in time order; with full=True message text is the raw body from the archive."""
    messages = session.scalars(
        select(Message).where(Message.request_id == request.id).options(selectinload(Message.attachments))
    ).all()
    events = session.scalars(select(Event).where(Event.request_id == request.id)).all()
    messages = sorted(messages, key=lambda m: (as_utc(m.received_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc), m.id))
    markers = fold_markers(messages)
    entries: list[MessageEntry | EventEntry] = [
        _message_entry(m, marks, full=full, archive_root=archive_root) for m, marks in zip(messages, markers)
    ]
    entries += [_event_entry(e) for e in events]
    # Events at the same instant as their message follow it: the cause before the effect.
    entries.sort(key=lambda e: (e.at, isinstance(e, EventEntry), e.id))
    return Thread(
        id=request.id,
        reference=request.reference,
        agency=request.agency.name,
        state=request.state,
        subject=request.subject,
        tracking_numbers=tuple(t.value for t in sorted(request.tracking_numbers, key=lambda t: t.id)),
        deadlines=Deadlines(
            filed=as_utc(request.filed_at),
            clock_start=request.clock_start,
            due=request.due_date,
            extended_due=request.extended_due,
            promised=request.promised_date,
            effective_due=effective_due(request),
            days_overdue=days_overdue(request, today),
            next_action=request.next_action_date,
            followups_sent=request.followups_sent,
        ),
        entries=tuple(entries),
        letter=request.body,
    )


def fold_marker(item: Any, seen: int | None = None) -> str:
    """One line for one folded block: what it was and, when known, how often it appeared in the thread."""
    if isinstance(item, dict):
        reason = str(item.get("reason") or "block")
        seen = _int(item.get("seen")) or seen
    else:
        reason = str(item)
    name = FOLD_NAMES.get(reason, reason.replace("_", " "))
    return f"{name} folded" + (f", seen {seen}×" if seen and seen > 1 else "")


def fold_markers(messages: Sequence[Message]) -> list[tuple[str, ...]]:
    """Each message's fold lines; a recurring block says in how many of the thread's messages it appears.

    A notice is kept the first time it comes and folded after that, so the kept text counts as well.
    """
    prints_of = [[_prints(f) for f in m.folded or []] for m in messages]
    carriers: Counter[str] = Counter()
    for m, prints in zip(messages, prints_of):
        in_message = set(_prints({"text": m.cleaned_text or ""}))
        for fps in prints:
            in_message |= fps
        carriers.update(in_message)
    result = []
    for m, prints in zip(messages, prints_of):
        lines: Counter[str] = Counter()
        for item, fps in zip(m.folded or [], prints):
            counted = isinstance(item, dict) and item.get("reason") in COUNTED
            seen = max((carriers[fp] for fp in fps), default=0) if counted else None
            lines[fold_marker(item, seen)] += 1
        # The same kind of block folded twice in one message reads better as one line with a count.
        result.append(tuple(line if n == 1 else f"{line} ({n} blocks)" for line, n in lines.items()))
    return result


def _prints(item: Any) -> frozenset[str]:
    """Fingerprints of a folded block's lines (numbers and dates masked), so a footer with a new id still counts."""
    text = str(item.get("text") or "") if isinstance(item, dict) else ""
    found = {fp for line in text.splitlines() if (fp := fingerprint(line))}
    if not found and text.strip():
        found = {" ".join(text.lower().split())}
    return frozenset(found)


def _message_entry(m: Message, markers: tuple[str, ...], *, full: bool, archive_root: Path | None) -> MessageEntry:
    at = as_utc(m.sent_date) or as_utc(m.received_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    text = m.cleaned_text or ""
    if full:
        text = raw_body(m, archive_root) or text
    elif not text and m.direction == "out":
        # Our own mail is not cleaned; its opening lines say which letter or follow-up it was.
        body = (raw_body(m, archive_root) or "").strip().splitlines()
        text = "\n".join(body[:OUT_PREVIEW_LINES])
        if len(body) > OUT_PREVIEW_LINES:
            text += f"\n… {len(body) - OUT_PREVIEW_LINES} more lines (--full shows them)"
    return MessageEntry(
        id=m.id,
        at=at,
        direction=m.direction,
        from_addr=m.from_addr or "",
        subject=m.subject or "",
        kind=m.kind,
        label=m.label,
        confidence=m.confidence,
        status=m.status,
        text=text,
        folded=markers,
        attachments=tuple(
            AttachmentLine(a.filename, a.content_type, a.size, a.oversized, a.method, a.text_chars or 0, a.error)
            for a in sorted(m.attachments, key=lambda a: a.id)
        ),
        facts=dict(m.facts or {}),
    )


def _event_entry(e: Event) -> EventEntry:
    return EventEntry(
        id=e.id,
        at=as_utc(e.created_at) or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
        kind=e.kind,
        from_state=e.from_state,
        to_state=e.to_state,
        cause=e.cause,
        actor=e.actor,
        detail=dict(e.detail or {}),
    )


def raw_body(m: Message, archive_root: Path | None) -> str | None:
    """The whole text of the archived mail, or None when the archive is not at hand."""
    # Archive() would create a missing folder; a read-only view must not.
    if archive_root is None or not m.archive_key or not Path(archive_root).is_dir():
        return None
    from email import message_from_bytes, policy

    from agent.mail.archive import Archive, ArchiveError

    try:
        raw = Archive(archive_root).get(m.archive_key)
    except (ArchiveError, OSError, KeyError):
        return None
    parsed = message_from_bytes(raw, policy=policy.default)
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return raw.decode("utf-8", "replace")
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        return raw.decode("utf-8", "replace")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
