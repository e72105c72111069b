"""DB glue for understanding: gather a thread's context before, and learn portal boilerplate after."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Agency, BoilerplateStat, Message, Outbox, Request, TrackingNumber
from agent.pipeline.stage_data import ThreadContext, Understanding
from agent.pipeline.units import fingerprint, split_units

# A paragraph seen in this many different threads from one sender domain is that domain's boilerplate.
MIN_THREADS = 3
# Folds that are not the agency's own words in that message (our echoed letter) are not context.
_NOT_THEIRS = frozenset({"our_request"})
_SAMPLE_CHARS = 500
_THREAD_CAP = 50  # stop listing threads per fingerprint once it is clearly boilerplate


def _message_text(row: Message) -> str:
    """What an earlier message said in full: its kept text plus everything that was folded from it."""
    parts = [row.cleaned_text or ""]
    for item in row.folded or []:
        if isinstance(item, dict) and item.get("reason") not in _NOT_THEIRS:
            parts.append(str(item.get("text", "")))
    return "\n\n".join(p for p in parts if p)


def _outbox_text(raw: bytes) -> str:
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        return body.get_content() if body is not None else ""
    except Exception:  # a mangled stored copy only costs us echo detection
        return ""


def build_thread_context(
    session: Session,
    request_id: int | None,
    sender_domain: str,
    *,
    exclude_message_id: int | None = None,
    before: dt.datetime | None = None,
) -> ThreadContext:
    """Earlier inbound texts and our own letters for this request, plus the sender domain's learned boilerplate."""
    domain = (sender_domain or "").lower()
    fingerprints = frozenset(
        row.fingerprint
        for row in session.scalars(select(BoilerplateStat).where(BoilerplateStat.domain == domain))
        if len(row.threads or []) >= MIN_THREADS
    )
    if request_id is None:
        return ThreadContext(domain_fingerprints=fingerprints)
    request = session.get(Request, request_id)
    if request is None:
        return ThreadContext(domain_fingerprints=fingerprints)
    query = select(Message).where(
        Message.request_id == request_id, Message.direction == "in", Message.cleaned_text.is_not(None)
    )
    if exclude_message_id is not None:
        query = query.where(Message.id != exclude_message_id)
    if before is not None:
        query = query.where(Message.received_at < before)
    earlier = tuple(_message_text(row) for row in session.scalars(query.order_by(Message.received_at, Message.id)))
    ours = [request.body or ""]
    for raw in session.scalars(select(Outbox.raw).where(Outbox.request_id == request_id).order_by(Outbox.id)):
        ours.append(_outbox_text(raw))
    agency = session.get(Agency, request.agency_id)
    numbers = tuple(session.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == request_id)))
    return ThreadContext(
        earlier_texts=earlier,
        our_texts=tuple(t for t in ours if t.strip()),
        domain_fingerprints=fingerprints,
        request_reference=request.reference,
        known_tracking_numbers=numbers,
        tracking_patterns=tuple(str(p) for p in (agency.tracking_patterns if agency else []) or []),
        jurisdiction=request.jurisdiction,
    )


def learn_boilerplate(
    session: Session, sender_domain: str, request_id: int | None, understanding: Understanding
) -> None:
    """Count each of the message's paragraph fingerprints against its sender domain and thread."""
    domain = (sender_domain or "").lower()
    if not domain or not understanding.fingerprints:
        return
    wanted = list(dict.fromkeys(understanding.fingerprints))
    rows = {
        row.fingerprint: row
        for row in session.scalars(
            select(BoilerplateStat).where(BoilerplateStat.domain == domain, BoilerplateStat.fingerprint.in_(wanted))
        )
    }
    samples = dict(_samples(understanding))
    thread = str(request_id) if request_id is not None else None
    for fp in wanted:
        row = rows.get(fp)
        if row is None:
            row = BoilerplateStat(domain=domain, fingerprint=fp, threads=[], seen=0, sample=samples.get(fp, "")[:_SAMPLE_CHARS])
            session.add(row)
        row.seen = (row.seen or 0) + 1
        threads = list(row.threads or [])
        if thread is not None and thread not in threads and len(threads) < _THREAD_CAP:
            threads.append(thread)
            row.threads = threads  # reassign: JSON columns do not track in-place mutation
    session.flush()


def _samples(understanding: Understanding) -> Iterable[tuple[str, str]]:
    texts = [understanding.cleaned_text] + [f.text for f in understanding.folded if f.reason not in _NOT_THEIRS]
    for text in texts:
        for unit in split_units(text):
            fp = fingerprint(unit.text)
            if fp:
                yield fp, unit.text
