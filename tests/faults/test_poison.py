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


pytestmark = pytest.mark.reading_worker  # read as the daemon reads: in the budgeted worker


def test_each_poison_then_good_mail(inbound) -> None:  # type: ignore[no-untyped-def]
    """Every poison followed by good mail, all in one poll (one worker for the whole batch)."""
    batch: list[tuple[str, bytes, list[bytes]]] = []
    for n, (name, make) in enumerate(sorted(POISON.items())):
        good = [good_mail(2 * n), good_mail(2 * n + 1)]
        batch.append((name, make(), good))
        for raw in [batch[-1][1], *good]:
            inbound.deliver(raw)

    first = _poll(inbound)
    assert first.new == 3 * len(POISON)
    again = _poll(inbound)  # must not raise, and finds nothing left to do
    assert again.new == 0 and again.recovered == 0

    archive = Archive(inbound.settings.archive_path)
    problems: list[str] = []
    with inbound.sessions() as s:
        rows = {r.sha256: r for r in s.scalars(select(Message).where(Message.direction == "in"))}
        for name, poison, good in batch:
            bad = rows[hashlib.sha256(poison).hexdigest()]
            if archive.get(bad.archive_key) != poison:
                problems.append(f"{name}: the archive does not keep the poison byte for byte")
            if bad.status not in SETTLED:
                problems.append(f"{name}: left in status {bad.status}")
            if bad.status == "quarantined" and not (
                (bad.error or "").strip()
                and s.scalar(select(ReviewItem).where(ReviewItem.message_row_id == bad.id, ReviewItem.kind == "quarantined"))
            ):
                problems.append(f"{name}: quarantined without a reason or a review item")
            values = [bad.message_id or "", bad.dedupe_key, bad.subject or "", *(bad.references or []), *(bad.to_addrs or [])]
            if any("\x00" in v or len(v) > 2000 for v in values):
                problems.append(f"{name}: a stored value holds NUL or is over 2,000 characters")
            if len(bad.references or []) > 100 or len(bad.to_addrs or []) > 400:
                problems.append(f"{name}: lists stored past their caps")
            try:
                json.dumps(bad.facts, allow_nan=False)  # strict JSON: no Infinity or NaN from an absurd amount
            except ValueError as exc:
                problems.append(f"{name}: facts are not strict JSON ({exc})")
            for raw in good:
                row = rows[hashlib.sha256(raw).hexdigest()]
                if row.status != "processed" or row.request_id is None:
                    problems.append(f"{name}: good mail after it is {row.status} ({row.error})")
                if archive.get(row.archive_key) != raw:
                    problems.append(f"{name}: good mail after it not archived exactly")
    assert not problems, "\n".join(problems)


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

