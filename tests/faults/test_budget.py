"""A message over the reading budget (time or memory) is stopped in the worker and quarantined with the
reason; the mail after it in the same poll is processed, and the worker is started again for it.

The inputs are real: a message large enough that parsing it costs far more than the budget set here
(the budgets are small so the test is quick; the defaults are 10 s and 500 MB)."""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.config import LimitsSettings
from agent.db.models import Message, ReviewItem
from agent.inbound import worker
from agent.inbound.poll import poll_once
from agent.mail.inbox import open_inbox

sys.path.insert(0, str(Path(__file__).parent))
from poison_mail import REPLY, SENDER, good_mail  # noqa: E402

pytestmark = pytest.mark.reading_worker


def _big(megabytes: int) -> bytes:
    """A reply with a large base64 attachment: parsing decodes and copies it several times."""
    payload = base64.encodebytes(bytes(range(256)) * (megabytes * 4096)).replace(b"\n", b"\r\n")
    head = (
        f"From: {SENDER}\r\nTo: {REPLY}\r\nSubject: [RA-2025-0001] records\r\nMessage-ID: <big-{megabytes}@city.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n'
        'The records are attached.\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="r.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    return head + payload + b"\r\n--B--\r\n"


def _run(inbound, limits: LimitsSettings, raws: list[bytes]) -> dict[str, Message]:  # type: ignore[no-untyped-def]
    settings = inbound.settings.model_copy(update={"limits": limits})
    for raw in raws:
        inbound.deliver(raw)
    inbox = open_inbox(settings)
    try:
        poll_once(settings, inbound.sessions, inbox, rules=inbound.rules)
        again = poll_once(settings, inbound.sessions, inbox, rules=inbound.rules)
    finally:
        inbox.close()
    assert again.new == 0
    with inbound.sessions() as s:
        return {r.sha256: r for r in s.scalars(select(Message).where(Message.direction == "in"))}


def _quarantined_with(inbound, row: Message, words: str) -> None:  # type: ignore[no-untyped-def]
    assert row.status == "quarantined", (row.status, row.error)
    assert words in (row.error or ""), row.error
    with inbound.sessions() as s:
        item = s.scalar(select(ReviewItem).where(ReviewItem.message_row_id == row.id, ReviewItem.kind == "quarantined"))
        assert item is not None and words in item.reason


def test_message_over_the_time_budget_is_quarantined_and_the_next_processed(inbound) -> None:  # type: ignore[no-untyped-def]
    slow, good = _big(40), good_mail(101)
    rows = _run(inbound, LimitsSettings(message_seconds=0.5, message_memory_mb=4000), [slow, good])
    _quarantined_with(inbound, rows[hashlib.sha256(slow).hexdigest()], "exceeded time budget")
    after = rows[hashlib.sha256(good).hexdigest()]
    assert after.status == "processed" and after.request_id is not None, (after.status, after.error)
    # Really read in the worker: the stopped child was replaced by a second one for the next message.
    assert worker._current is not None and worker._current.starts == 2


def test_message_over_the_memory_budget_is_quarantined_and_the_next_processed(inbound) -> None:  # type: ignore[no-untyped-def]
    greedy, good = _big(24), good_mail(102)
    rows = _run(inbound, LimitsSettings(message_seconds=120, message_memory_mb=64), [greedy, good])
    _quarantined_with(inbound, rows[hashlib.sha256(greedy).hexdigest()], "exceeded memory budget")
    after = rows[hashlib.sha256(good).hexdigest()]
    assert after.status == "processed" and after.request_id is not None, (after.status, after.error)


def test_rules_the_worker_cannot_receive_are_read_in_process() -> None:
    """Reading must go on: a rule set that cannot be sent to the worker is read in this process (logged)."""
    from agent.inbound.reader import InProcessReader

    unpicklable = {"matcher": lambda text: True}
    assert isinstance(worker.reader_for(LimitsSettings(), unpicklable), InProcessReader)
    assert isinstance(worker.reader_for(LimitsSettings(worker=False), object()), InProcessReader)
