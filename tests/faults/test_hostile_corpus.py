"""At least 200 malformed and hostile messages: no crash, each archived byte for byte, each processed or quarantined with a reason."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from sqlalchemy import func, select

from agent.db.models import Attachment, Message, Outbox
from agent.inbound.poll import poll_once
from agent.mail.archive import Archive
from agent.mail.inbox import open_inbox

sys.path.insert(0, str(Path(__file__).parent))
from hostile import corpus  # noqa: E402

# "own": our own sent mail seen again (a copy to self, a provider's thread view): archived, marked, not read.
SETTLED = {"processed", "orphan", "review", "quarantined", "own"}


def test_corpus_is_big_and_distinct() -> None:
    items = corpus()
    assert len(items) >= 200
    assert len({name for name, _ in items}) == len(items)
    assert len({hashlib.sha256(raw).digest() for _, raw in items}) == len(items)


def test_every_hostile_message_is_archived_and_settled(inbound) -> None:
    items = corpus()
    for _, raw in items:
        inbound.deliver(raw)
    inbox = open_inbox(inbound.settings)
    try:
        report = poll_once(inbound.settings, inbound.sessions, inbox, rules=inbound.rules)
        again = poll_once(inbound.settings, inbound.sessions, inbox, rules=inbound.rules)
    finally:
        inbox.close()
    assert again.new == 0
    archive = Archive(inbound.settings.archive_path)
    attachments_root = inbound.settings.attachments.path.resolve()
    with inbound.sessions() as s:
        rows = {row.sha256: row for row in s.scalars(select(Message).where(Message.direction == "in"))}
        problems = []
        for name, raw in items:
            row = rows.get(hashlib.sha256(raw).hexdigest())
            if row is None:
                problems.append(f"{name}: no row")
                continue
            if archive.get(row.archive_key) != raw:
                problems.append(f"{name}: archive differs from what arrived")
            if row.status not in SETTLED:
                problems.append(f"{name}: left in status {row.status}")
            if row.status == "quarantined" and not (row.error or "").strip():
                problems.append(f"{name}: quarantined without a reason")
        assert not problems, "\n".join(problems)
        assert report.new + report.duplicates == len(items)
        assert report.duplicates == 0
        for att in s.scalars(select(Attachment)):
            assert att.filename and att.filename not in {".", ".."}
            assert not any(ch in att.filename for ch in "/\\\x00\r\n"), att.filename
            if att.stored_path:
                # Stored relative to the attachments root; whatever the name, it stays inside it.
                assert not Path(att.stored_path).is_absolute(), att.stored_path
                assert (attachments_root / att.stored_path).resolve().is_relative_to(attachments_root)
        # We never answer mail by ourselves: loops from our own address die here.
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0
