"""The Beverly Hills thread end to end: filed, acknowledged, extended to 03/07, then silence and reminders."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes

import time_machine
from sqlalchemy import func, select

from agent.db.models import Event, Outbox, ReviewItem
from agent.followups.scan import scan_once
from agent.outbox.send import drain_once

UTC = dt.timezone.utc


def at(day: str, hour: int = 17) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


async def _drain(settings, sessions, day: str):  # type: ignore[no-untyped-def]
    # An hour after the scan's time, so what the scan queued is due.
    with time_machine.travel(at(day, 18), tick=True):
        return await drain_once(settings, sessions, worker_id="w1")


def _scan(sessions, settings, day: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day), tick=True):
        return scan_once(sessions, settings, today=dt.date.fromisoformat(day))


def _followups(sessions) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(Outbox).where(Outbox.kind == "followup").order_by(Outbox.id)))


async def test_beverly_hills_thread(sessions, settings, smtp_server, new_request, reply, load) -> None:
    rid = new_request(now=at("2025-02-11"), tracking=("CRM-25-191",))

    # Filed: the letter goes out on 02/11 and the CPRA clock starts: 10 calendar days -> Friday 02/21.
    report = await _drain(settings, sessions, "2025-02-11")
    assert report.sent == 1 and len(smtp_server.messages) == 1
    req = load(rid)
    assert req.state == "sent"
    assert req.clock_start == dt.date(2025, 2, 11)
    assert req.due_date == dt.date(2025, 2, 21)
    assert req.next_action_date == dt.date(2025, 2, 24)
    original_id = smtp_server.messages[0].message_id

    # Acknowledgment the same day, then the written extension notice "on or before 03/07/2025".
    assert reply(rid, now=at("2025-02-11", 20), label="acknowledgment")[0][2] == "acknowledged"
    assert reply(rid, now=at("2025-02-20"), label="extension", expected=dt.date(2025, 3, 7))[0][2] == "extended"
    req = load(rid)
    assert req.extended_due == dt.date(2025, 3, 7)
    assert req.next_action_date == dt.date(2025, 3, 10)  # Monday after Friday 03/07

    # Silence. Nothing on the original due date, nothing on the extended one.
    for day in ("2025-02-21", "2025-02-24", "2025-03-07"):
        assert _scan(sessions, settings, day).queued == 0
    assert _followups(sessions) == []

    # 03/10: exactly one follow-up, even when the scan runs twice (a second daemon, a restart).
    first = _scan(sessions, settings, "2025-03-10")
    again = _scan(sessions, settings, "2025-03-10")
    assert (first.queued, again.queued, again.due) == (1, 0, 0)
    rows = _followups(sessions)
    assert len(rows) == 1

    await _drain(settings, sessions, "2025-03-10")
    assert len(smtp_server.messages) == 2
    sent = smtp_server.messages[1]
    mail = message_from_bytes(sent.data)
    # Threaded: References starts at our letter, In-Reply-To is the agency's latest message.
    refs = mail["References"].split()
    assert refs[0] == original_id and mail["In-Reply-To"] == refs[-1] != original_id
    assert mail["Subject"].startswith("Re: ") and "RA-2025-" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "CRM-25-191" in body
    assert "February 11, 2025" in body  # filing date
    assert "March 7, 2025" in body  # the extended due date
    assert "7922.535" in body  # the statute cited
    assert "3 days ago" in body  # days overdue on 03/10
    assert "Pursuant to the California Public Records Act" not in body  # history not quoted
    assert sent.rcpt_tos == ("cityclerk@beverlyhills.example",)

    # Spacing: every 10 business days, at most 3 reminders, then the operator decides.
    req = load(rid)
    assert req.next_action_date == dt.date(2025, 3, 24)
    assert _scan(sessions, settings, "2025-03-21").queued == 0
    assert _scan(sessions, settings, "2025-03-24").queued == 1
    # 10 California business days: Cesar Chavez Day (Monday 03/31) is a state holiday.
    assert load(rid).next_action_date == dt.date(2025, 4, 8)
    assert _scan(sessions, settings, "2025-04-07").queued == 0
    assert _scan(sessions, settings, "2025-04-08").queued == 1
    assert len(_followups(sessions)) == 3
    escalation_day = load(rid).next_action_date
    assert escalation_day == dt.date(2025, 4, 15)
    escalated = _scan(sessions, settings, escalation_day.isoformat())
    assert (escalated.queued, escalated.escalated) == (0, 1)
    req = load(rid)
    assert req.state == "needs_review" and req.next_action_date is None
    for day in ("2025-05-01", "2025-09-01"):
        assert _scan(sessions, settings, day).due == 0
    assert len(_followups(sessions)) == 3
    with sessions() as s:
        kinds = list(s.scalars(select(ReviewItem.kind).where(ReviewItem.request_id == rid)))
        assert kinds == ["escalation"]
        causes = [(e.kind, e.cause, e.to_state) for e in s.scalars(select(Event).where(Event.request_id == rid).order_by(Event.id))]
        assert ("state_change", "system", "sent") in causes
        assert ("state_change", "message", "acknowledged") in causes
        assert ("state_change", "message", "extended") in causes
        assert causes.count(("noted", "timer", "extended")) == 3
        assert ("state_change", "timer", "needs_review") in causes
        out_rows = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.state == "sent"))
        assert out_rows == 2


async def test_followup_streak_restarts_when_the_agency_answers(sessions, settings, new_request, reply, load) -> None:
    rid = new_request(now=at("2025-02-11"))
    await _drain(settings, sessions, "2025-02-11")
    assert _scan(sessions, settings, "2025-02-24").queued == 1
    # A batch arrives after the deadline: still followed up (partial), but the agency gets room first.
    assert reply(rid, now=at("2025-02-26"), label="batch")[0][2] == "partial"
    req = load(rid)
    assert req.state == "partial" and req.flags["followup_streak"] == 0
    assert req.next_action_date == dt.date(2025, 3, 12)  # 10 business days after 02/26
    assert _scan(sessions, settings, "2025-03-12").queued == 1
    # The final batch closes it: no more reminders.
    assert reply(rid, now=at("2025-03-13"), label="final_records")[0][2] == "completed"
    assert load(rid).next_action_date is None
    assert _scan(sessions, settings, "2025-06-01").due == 0
