"""A poison message followed by good mail: the poison is stored (escaped, truncated) or quarantined with a
reason, the good mail in the same poll is processed, the archive keeps every byte, and the next poll runs."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.db.models import Message, ReviewItem
from agent.inbound.poll import poll_once
from agent.mail.archive import Archive
from agent.mail.inbox import open_inbox

sys.path.insert(0, str(Path(__file__).parent))
from poison_mail import POISON, good_mail  # noqa: E402

SETTLED = {"processed", "orphan", "review", "quarantined"}


def _poll(inbound):  # type: ignore[no-untyped-def]
    inbox = open_inbox(inbound.settings)
    try:
        return poll_once(inbound.settings, inbound.sessions, inbox, rules=inbound.rules)
    finally:
        inbox.close()


@pytest.mark.parametrize("name", sorted(POISON))
def test_poison_then_good_mail(inbound, name: str) -> None:  # type: ignore[no-untyped-def]
    poison = POISON[name]()
    good = [good_mail(1), good_mail(2)]
    for raw in [poison, *good]:
        inbound.deliver(raw)

    first = _poll(inbound)
    assert first.new == 3
    again = _poll(inbound)  # must not raise, and finds nothing left to do
    assert again.new == 0 and again.recovered == 0

    archive = Archive(inbound.settings.archive_path)
    with inbound.sessions() as s:
        rows = {r.sha256: r for r in s.scalars(select(Message).where(Message.direction == "in"))}
        bad = rows[hashlib.sha256(poison).hexdigest()]
        assert archive.get(bad.archive_key) == poison, "the archive keeps the poison byte for byte"
        assert bad.status in SETTLED
        if bad.status == "quarantined":
            assert (bad.error or "").strip()
            assert s.scalar(select(ReviewItem).where(ReviewItem.message_row_id == bad.id, ReviewItem.kind == "quarantined"))
        for value in [bad.message_id or "", bad.dedupe_key, bad.subject or "", *(bad.references or []), *(bad.to_addrs or [])]:
            assert "\x00" not in value and len(value) <= 2000
        assert len(bad.references or []) <= 100 and len(bad.to_addrs or []) <= 400
        # Stored JSON is strict JSON: no Infinity or NaN from an absurd amount.
        json.dumps(bad.facts, allow_nan=False)
        for raw in good:
            row = rows[hashlib.sha256(raw).hexdigest()]
            assert row.status == "processed", (row.status, row.error)
            assert row.request_id is not None
            assert archive.get(row.archive_key) == raw


def test_absurd_fee_is_refused_and_flagged(inbound) -> None:  # type: ignore[no-untyped-def]
    """A fee of hundreds of nines is no amount: it never becomes a number, and the facts say it was refused."""
    raw = POISON["fee-hundreds-of-nines"]()
    inbound.deliver(raw)
    _poll(inbound)
    with inbound.sessions() as s:
        row = s.scalar(select(Message).where(Message.sha256 == hashlib.sha256(raw).hexdigest()))
        assert row is not None and row.status in SETTLED
        facts = row.facts or {}
        assert all(abs(f["amount"]) < 1e12 for f in facts.get("fees", [])), facts
        assert facts.get("fees_refused"), facts

