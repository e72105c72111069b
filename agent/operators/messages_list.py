"""Processed messages in one list, with what reading found in each: one call for scripts and audits, not one
`agent explain` per message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from agent.db.models import Message, Request, ReviewItem
from agent.operators.clock import as_utc

# "new" is not read yet; "own" is our own mail seen again in the inbox (the "out" row already stands for it).
LISTED_STATUSES = ("processed", "review", "orphan", "quarantined")
# A skipped item is still undecided: it counts as open, after the open ones.
UNDECIDED = ("open", "skipped")
CHUNK = 500


@dataclass(frozen=True)
class MessageFilter:
    request_id: int | None = None
    since: dt.datetime | None = None  # received by us at or after this instant (UTC)


@dataclass(frozen=True)
class MessageRow:
    id: int
    message_id: str | None
    direction: str
    request: str | None  # our reference
    status: str
    kind: str | None
    label: str | None
    confidence: float | None
    from_addr: str | None
    subject: str | None
    date: dt.datetime | None  # the message's Date header
    received_at: dt.datetime | None
    processed_at: dt.datetime | None
    expected_date: str | None
    tracking_numbers: tuple[str, ...]
    review: str | None  # kind of the open (or skipped) review item on this message
    review_item: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "request": self.request,
            "label": self.label,
            "confidence": self.confidence,
            "expected_date": self.expected_date,
            "tracking_numbers": list(self.tracking_numbers),
            "review": self.review,
            "review_item": self.review_item,
            "direction": self.direction,
            "status": self.status,
            "kind": self.kind,
            "from": self.from_addr,
            "subject": self.subject,
            "date": _iso(self.date),
            "received_at": _iso(self.received_at),
            "processed_at": _iso(self.processed_at),
        }


def list_messages(session: Session, filt: MessageFilter) -> list[MessageRow]:
    """Messages the pipeline has read (or sent), oldest received first."""
    stmt = (
        select(Message)
        .where(Message.status.in_(LISTED_STATUSES))
        .options(load_only(
            Message.message_id, Message.direction, Message.request_id, Message.status, Message.kind, Message.label,
            Message.confidence, Message.from_addr, Message.subject, Message.sent_date, Message.received_at,
            Message.processed_at, Message.facts,
        ))
        .order_by(Message.received_at, Message.id)
    )
    if filt.request_id is not None:
        stmt = stmt.where(Message.request_id == filt.request_id)
    if filt.since is not None:
        stmt = stmt.where(Message.received_at >= filt.since)
    messages = list(session.scalars(stmt))
    refs = _references(session, {m.request_id for m in messages if m.request_id is not None})
    reviews = _open_reviews(session, [m.id for m in messages])
    return [_row(m, refs, reviews) for m in messages]


def _row(m: Message, refs: dict[int, str], reviews: dict[int, tuple[str, int]]) -> MessageRow:
    facts = m.facts if isinstance(m.facts, dict) else {}
    expected = facts.get("expected_date")
    review = reviews.get(m.id)
    return MessageRow(
        id=m.id,
        message_id=m.message_id,
        direction=m.direction,
        request=refs.get(m.request_id) if m.request_id is not None else None,
        status=m.status,
        kind=m.kind,
        label=m.label,
        confidence=m.confidence,
        from_addr=m.from_addr,
        subject=m.subject,
        date=as_utc(m.sent_date),
        received_at=as_utc(m.received_at),
        processed_at=as_utc(m.processed_at),
        expected_date=str(expected) if expected else None,
        tracking_numbers=tuple(str(t) for t in facts.get("tracking_numbers") or ()),
        review=review[0] if review else None,
        review_item=review[1] if review else None,
    )


def _references(session: Session, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        out.update((rid, ref) for rid, ref in session.execute(select(Request.id, Request.reference).where(Request.id.in_(chunk))))
    return out


def _open_reviews(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, int]]:
    """Per message, its undecided review item: open before skipped, then the oldest."""
    found: dict[int, tuple[int, int, str, int]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(ReviewItem.message_row_id, ReviewItem.state, ReviewItem.kind, ReviewItem.id)
            .where(ReviewItem.message_row_id.in_(chunk), ReviewItem.state.in_(UNDECIDED))
        )
        for message_row_id, state, kind, item_id in rows:
            if message_row_id is None:
                continue
            rank = (UNDECIDED.index(state), item_id)
            best = found.get(message_row_id)
            if best is None or rank < best[:2]:
                found[message_row_id] = (*rank, kind, item_id)
    return {mid: (kind, item_id) for mid, (_, _, kind, item_id) in found.items()}


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i:i + CHUNK]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
