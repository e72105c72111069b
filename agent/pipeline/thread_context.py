"""DB glue for understanding: gather a thread's context before, and learn portal boilerplate after."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import Session

from agent.db.models import Agency, BoilerplateStat, Event, Message, Outbox, Request, ReviewItem, TrackingNumber
from agent.pipeline.stage_data import ThreadContext, Understanding
from agent.pipeline.units import fingerprint, split_units

# A paragraph seen in this many different threads from one sender domain is that domain's boilerplate.
MIN_THREADS = 3
# Folds that are not the agency's own words in that message (our echoed letter) are not context.
_NOT_THEIRS = frozenset({"our_request"})
_SAMPLE_CHARS = 500
_THREAD_CAP = 50  # stop listing threads per fingerprint once it is clearly boilerplate


def _message_text(cleaned_text: str | None, folded: list[dict[str, str]] | None) -> str:
    """What an earlier message said in full: its kept text plus everything that was folded from it."""
    parts = [cleaned_text or ""]
    for item in folded or []:
        if isinstance(item, dict) and item.get("reason") not in _NOT_THEIRS:
            parts.append(str(item.get("text", "")))
    return "\n\n".join(p for p in parts if p)


def _outbox_text(raw: bytes) -> str:
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
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
    fingerprints = ThreadMemory().context(session, None, sender_domain).domain_fingerprints
    thread = _thread_part(session, request_id, exclude_message_id=exclude_message_id, before=before)
    return dataclasses.replace(thread, domain_fingerprints=fingerprints)


def _thread_part(
    session: Session, request_id: int | None, *, exclude_message_id: int | None = None, before: dt.datetime | None = None
) -> ThreadContext:
    """Everything in the context that belongs to the request (not to the sender's domain)."""
    session.flush()  # what this transaction wrote (a number just learned, an earlier reply) is part of the thread
    request = session.get(Request, request_id) if request_id is not None else None
    if request is None:
        return ThreadContext()
    query = select(Message.cleaned_text, Message.folded).where(
        Message.request_id == request.id, Message.direction == "in", Message.cleaned_text.is_not(None),
        # A stranger's words are not the thread's until a person vouches for them: they could fold the agency's.
        Message.id.not_in(_held_unknown_senders(request.id)),
    )
    if exclude_message_id is not None:
        query = query.where(Message.id != exclude_message_id)
    if before is not None:
        query = query.where(Message.received_at < before)
    earlier = tuple(
        _message_text(cleaned, folded) for cleaned, folded in session.execute(query.order_by(Message.received_at, Message.id))
    )
    ours = [request.body or ""]
    for raw in session.scalars(select(Outbox.raw).where(Outbox.request_id == request.id).order_by(Outbox.id)):
        ours.append(_outbox_text(raw))
    patterns = session.scalar(select(Agency.tracking_patterns).where(Agency.id == request.agency_id))
    numbers = tuple(session.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == request.id)))
    return ThreadContext(
        earlier_texts=earlier,
        our_texts=tuple(t for t in ours if t.strip()),
        request_reference=request.reference,
        known_tracking_numbers=numbers,
        tracking_patterns=tuple(str(p) for p in patterns or []),
        jurisdiction=request.jurisdiction,
        request_state=request.state,
    )


# What a person does to vouch for a held message: confirm it, correct its label, or file it under a request.
_VOUCHED = ("review_confirmed", "review_relabel", "review_attach")


def _held_unknown_senders(request_id: int) -> Select[int | None]:
    """Messages held as "unknown sender" that no person vouched for (open, skipped or dismissed alike)."""
    vouched = select(Event.message_row_id).where(
        Event.request_id == request_id, Event.kind.in_(_VOUCHED), Event.message_row_id.is_not(None)
    )
    return select(ReviewItem.message_row_id).where(
        ReviewItem.request_id == request_id, ReviewItem.kind == "unknown_sender",
        ReviewItem.message_row_id.is_not(None), ReviewItem.message_row_id.not_in(vouched),
    )


@dataclass
class _Tally:
    """One domain's count for one paragraph fingerprint, as plain data until written."""

    id: int | None  # None: not in the DB yet
    seen: int
    threads: list[str]
    sample: str = ""
    dirty: bool = False


class ThreadMemory:
    """The thread contexts and domain boilerplate already read, kept up to date with what is written meanwhile.

    Replies processed in a row then read each thread and each sender domain once instead of once per message,
    and get the same contexts build_thread_context would have read back. Boilerplate counts are kept as plain
    data and written by write() once per transaction, not as a dozen UPDATEs per message. Only for a run of
    transactions that all commit: drop it after a rollback.
    """

    def __init__(self, max_threads: int = 500) -> None:
        self._threads: OrderedDict[int, ThreadContext] = OrderedDict()
        self._max_threads = max_threads
        self._tallies: dict[str, dict[str, _Tally]] = {}
        self._common: dict[str, set[str]] = {}

    def context(self, session: Session, request_id: int | None, sender_domain: str) -> ThreadContext:
        domain = (sender_domain or "").lower()
        self._domain(session, domain)
        fingerprints = frozenset(self._common.get(domain, ()))
        if request_id is None:
            return ThreadContext(domain_fingerprints=fingerprints)
        thread = self._threads.get(request_id)
        if thread is None:
            thread = self._threads[request_id] = _thread_part(session, request_id)
            if len(self._threads) > self._max_threads:
                self._threads.popitem(last=False)  # the least recently used thread is read again if needed
        self._threads.move_to_end(request_id)
        return dataclasses.replace(thread, domain_fingerprints=fingerprints)

    def remember_reply(self, request_id: int | None, cleaned_text: str | None, folded: list[dict[str, str]] | None) -> None:
        """A reply just stored on the request is part of its thread for the next one."""
        thread = self._threads.get(request_id) if request_id is not None else None
        if request_id is not None and thread is not None and cleaned_text is not None:
            text = _message_text(cleaned_text, folded)
            self._threads[request_id] = dataclasses.replace(thread, earlier_texts=thread.earlier_texts + (text,))

    def remember_tracking_numbers(self, request_id: int, values: Iterable[str]) -> None:
        thread = self._threads.get(request_id)
        if thread is not None:
            known = thread.known_tracking_numbers
            added = tuple(v for v in dict.fromkeys(values) if v not in known)
            if added:
                self._threads[request_id] = dataclasses.replace(thread, known_tracking_numbers=known + added)

    def learn(self, session: Session, sender_domain: str, request_id: int | None, understanding: Understanding) -> None:
        """learn_boilerplate's counting, in memory until write()."""
        domain = (sender_domain or "").lower()
        if not domain or not understanding.fingerprints:
            return
        tallies = self._domain(session, domain)
        samples = dict(_samples(understanding))
        thread = str(request_id) if request_id is not None else None
        for fp in dict.fromkeys(understanding.fingerprints):
            tally = tallies.get(fp)
            if tally is None:
                tally = tallies[fp] = _Tally(None, 0, [], samples.get(fp, "")[:_SAMPLE_CHARS])
            tally.seen += 1
            tally.dirty = True
            if thread is not None and thread not in tally.threads and len(tally.threads) < _THREAD_CAP:
                tally.threads = [*tally.threads, thread]
            if len(tally.threads) >= MIN_THREADS:
                self._common[domain].add(fp)

    def write(self, session: Session) -> None:
        """Write the counts learned in this transaction; the next transaction reads the domains afresh."""
        for domain, tallies in self._tallies.items():
            new = [
                {"domain": domain, "fingerprint": fp, "seen": t.seen, "threads": t.threads, "sample": t.sample}
                for fp, t in tallies.items()
                if t.dirty and t.id is None
            ]
            changed = [{"id": t.id, "seen": t.seen, "threads": t.threads} for t in tallies.values() if t.dirty and t.id is not None]
            if new:
                session.execute(insert(BoilerplateStat), new)
            if changed:
                session.execute(update(BoilerplateStat), changed)
        self._tallies.clear()
        self._common.clear()

    def _domain(self, session: Session, domain: str) -> dict[str, _Tally]:
        tallies = self._tallies.get(domain)
        if tallies is None:
            rows: Iterable[Any] = (
                session.execute(
                    select(BoilerplateStat.id, BoilerplateStat.fingerprint, BoilerplateStat.seen, BoilerplateStat.threads)
                    .where(BoilerplateStat.domain == domain)
                )
                if domain
                else []
            )
            tallies = self._tallies[domain] = {fp: _Tally(rid, seen or 0, list(threads or [])) for rid, fp, seen, threads in rows}
            self._common[domain] = {fp for fp, t in tallies.items() if len(t.threads) >= MIN_THREADS}
        return tallies


def learn_boilerplate(
    session: Session, sender_domain: str, request_id: int | None, understanding: Understanding
) -> None:
    """Count each of the message's paragraph fingerprints against its sender domain and thread."""
    memory = ThreadMemory()
    memory.learn(session, sender_domain, request_id, understanding)
    memory.write(session)


def _samples(understanding: Understanding) -> Iterable[tuple[str, str]]:
    texts = [understanding.cleaned_text] + [f.text for f in understanding.folded if f.reason not in _NOT_THEIRS]
    for text in texts:
        for unit in split_units(text):
            fp = fingerprint(unit.text)
            if fp:
                yield fp, unit.text
