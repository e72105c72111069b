"""The outbox sender against a real aiosmtpd server: retries, permanent failures, crashes after 250, limits."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from agent.compose.message import build_message
from agent.db.models import Message, Outbox, Request, ReviewItem
from agent.outbox import send
from agent.outbox.queue import enqueue
from agent.outbox.send import drain_once

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)


def _row(sessions, request_id: int) -> Outbox:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalars(select(Outbox).where(Outbox.request_id == request_id)).one()


def _reviews(sessions, kind: str) -> list[ReviewItem]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(ReviewItem).where(ReviewItem.kind == kind)))


async def _drain(settings, sessions, when: dt.datetime):  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=True):
        return await drain_once(settings, sessions, worker_id="w1", now=when)


async def test_451_then_250_retries_with_backoff_and_sends_once(sessions, settings, smtp_server, new_request, load) -> None:
    rid = new_request(now=T0)
    smtp_server.script_data([451])
    first = await _drain(settings, sessions, T0)
    assert (first.sent, first.retried) == (0, 1)
    row = _row(sessions, rid)
    assert (row.state, row.attempts, row.last_code) == ("queued", 1, 451)
    assert row.next_attempt_at.replace(tzinfo=UTC) == T0 + dt.timedelta(minutes=1)
    assert load(rid).state == "queued"

    # Not yet due 30 seconds later; sent once the backoff has passed.
    early = await _drain(settings, sessions, T0 + dt.timedelta(seconds=30))
    assert early.claimed == 0
    second = await _drain(settings, sessions, T0 + dt.timedelta(minutes=2))
    assert second.sent == 1
    assert len(smtp_server.messages) == 1 and smtp_server.data_attempts == 2
    row = _row(sessions, rid)
    assert (row.state, row.attempts, row.last_code) == ("sent", 2, 250)
    req = load(rid)
    assert req.state == "sent" and req.due_date == dt.date(2025, 2, 21)
    with sessions() as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert out.message_id == row.message_id and out.request_id == rid
    # The archived bytes are exactly what the server received.
    from agent.mail.archive import Archive

    assert Archive(settings.archive_path).get(out.archive_key) == row.raw
    assert await _drain(settings, sessions, T0 + dt.timedelta(hours=1)) == send.DrainReport()


async def test_temporary_failures_give_up_after_max_attempts(sessions, settings, smtp_server, new_request, load) -> None:
    settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"max_attempts": 2})})
    rid = new_request(now=T0)
    smtp_server.script_data([451, 452])
    await _drain(settings, sessions, T0)
    await _drain(settings, sessions, T0 + dt.timedelta(minutes=5))
    row = _row(sessions, rid)
    assert (row.state, row.attempts) == ("failed", 2)
    assert len(_reviews(sessions, "send_failed")) == 1
    assert smtp_server.messages == []


async def test_550_fails_the_row_and_puts_the_request_in_review(sessions, settings, smtp_server, new_request, load) -> None:
    rid = new_request(now=T0)
    smtp_server.script_data([550])
    report = await _drain(settings, sessions, T0)
    assert report.failed == 1
    row = _row(sessions, rid)
    assert (row.state, row.last_code) == ("failed", 550)
    assert load(rid).state == "needs_review"
    items = _reviews(sessions, "send_failed")
    assert len(items) == 1 and items[0].request_id == rid and "550" in items[0].reason
    # A failed row is never picked up again on its own.
    await _drain(settings, sessions, T0 + dt.timedelta(days=1))
    assert smtp_server.data_attempts == 1


async def test_rcpt_550_is_permanent_and_rcpt_450_is_not(sessions, settings, smtp_server, new_request) -> None:
    a = new_request(now=T0, email="gone@agency-a.example")
    b = new_request(now=T0, email="busy@agency-b.example")
    smtp_server.script_rcpt([550, 450])
    await _drain(settings, sessions, T0)
    assert _row(sessions, a).state == "failed"
    assert _row(sessions, b).state == "queued"


class Crash(Exception):
    """Stands in for the process dying."""


@pytest.mark.parametrize("crash_point", ["before_archive", "before_commit"])
async def test_crash_after_250_never_sends_twice(
    sessions, settings, smtp_server, new_request, load, monkeypatch, crash_point
) -> None:
    rid = new_request(now=T0)

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash("killed right after the server said 250")

    if crash_point == "before_archive":
        monkeypatch.setattr(send, "_archive_copy", boom)
    else:
        monkeypatch.setattr(send, "_commit_sent", boom)
    with pytest.raises(Crash):
        await _drain(settings, sessions, T0)
    assert len(smtp_server.messages) == 1
    assert _row(sessions, rid).state == "sending"
    monkeypatch.undo()

    # The restarted sender settles the row by its Message-ID and does not send again.
    report = await _drain(settings, sessions, T0 + dt.timedelta(minutes=1))
    again = await _drain(settings, sessions, T0 + dt.timedelta(hours=2))
    assert len(smtp_server.messages) == 1 and smtp_server.data_attempts == 1
    assert again.claimed == 0
    row = _row(sessions, rid)
    if crash_point == "before_commit":
        # The archive copy was written before the crash: that proves it was sent.
        assert report.reconciled == 1 and row.state == "sent"
        assert load(rid).state == "sent"
    else:
        # Nothing proves it either way: a person decides; it is never resent automatically.
        assert report.uncertain == 1 and row.state == "uncertain"
        assert len(_reviews(sessions, "send_uncertain")) == 1


async def test_another_workers_fresh_claim_is_left_alone(sessions, settings, smtp_server, new_request) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
        # Mid-conversation on another host: its SMTP exchange had begun.
        row.state, row.claimed_by, row.claimed_at, row.smtp_started_at = "sending", "other-host:1", T0, T0
    report = await _drain(settings, sessions, T0 + dt.timedelta(minutes=1))
    assert (report.reconciled, report.uncertain, report.claimed) == (0, 0, 0)
    assert _row(sessions, rid).state == "sending"
    # Long after the lease ran out the row is settled (no copy anywhere: uncertain, never resent).
    late = await _drain(settings, sessions, T0 + dt.timedelta(hours=1))
    assert late.uncertain == 1 and smtp_server.messages == []


async def test_crash_before_the_smtp_conversation_requeues(
    sessions, settings, smtp_server, new_request, monkeypatch
) -> None:
    rid = new_request(now=T0)

    async def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash("killed while connecting")

    monkeypatch.setattr(send, "_attempt", boom)
    with pytest.raises(Crash):
        await _drain(settings, sessions, T0)
    row = _row(sessions, rid)
    assert row.state == "sending" and row.smtp_started_at is None
    monkeypatch.undo()
    report = await _drain(settings, sessions, T0 + dt.timedelta(minutes=1))
    assert (report.requeued, report.sent, report.uncertain) == (1, 1, 0)
    assert len(smtp_server.messages) == 1
    assert _row(sessions, rid).state == "sent"


async def test_per_agency_rate_limit(sessions, settings, smtp_server, new_request) -> None:
    settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"per_agency_per_hour": 2})})
    rid = new_request(now=T0)
    with sessions.begin() as s:
        req = s.get(Request, rid)
        for n in range(3):
            msg = build_message(
                sender_name="Records Desk", sender_address="records@example.org",
                to=["cityclerk@beverlyhills.example"], subject=f"note {n}", text="hello", date=T0,
            )
            enqueue(s, msg, kind="reply", request_id=rid, agency_id=req.agency_id, not_before=T0)
    first = await _drain(settings, sessions, T0)
    assert (first.sent, first.rate_limited) == (2, 2)
    assert (await _drain(settings, sessions, T0 + dt.timedelta(minutes=30))).sent == 0
    later = await _drain(settings, sessions, T0 + dt.timedelta(minutes=61))
    assert later.sent == 2
    assert len(smtp_server.messages) == 4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SMTP-side behaviour: one database is enough
async def test_bad_recipient_is_refused_before_smtp(sessions, settings, smtp_server, new_request) -> None:
    rid = new_request(now=T0)
    with sessions.begin() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
        row.recipients = ["victim@example.org\r\nRCPT TO:<x@evil.example>"]
    report = await _drain(settings, sessions, T0)
    assert report.failed == 1 and smtp_server.data_attempts == 0
    assert "not a plain email address" in _row(sessions, rid).last_error


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SMTP-side behaviour: one database is enough
async def test_server_down_is_temporary(sessions, settings, smtp_server, new_request) -> None:
    settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"port": 1})})
    rid = new_request(now=T0)
    report = await _drain(settings, sessions, T0)
    # Not the letter's fault: the outbox pauses and the row keeps all its attempts.
    assert report.paused and report.released == 1 and report.retried == 0
    row = _row(sessions, rid)
    assert row.state == "queued" and row.attempts == 0 and "127.0.0.1:1" in (row.last_error or "")


async def test_a_row_taken_over_mid_batch_is_not_sent_twice(sessions, settings, smtp_server, new_request, monkeypatch) -> None:
    rid = new_request(now=T0)
    real = send._mark_started

    def taken_over(sessions_, row_id, worker_id):  # type: ignore[no-untyped-def]
        # Our batch outlived the lease: another daemon requeued the row and claimed it for itself.
        with sessions_.begin() as s:
            row = s.get(Outbox, row_id)
            row.claimed_by = "other-host:2"
        return real(sessions_, row_id, worker_id)

    monkeypatch.setattr(send, "_mark_started", taken_over)
    report = await _drain(settings, sessions, T0)
    assert (report.claimed, report.sent, report.failed, report.retried) == (1, 0, 0, 0)
    assert smtp_server.data_attempts == 0
    row = _row(sessions, rid)
    assert row.state == "sending" and row.claimed_by == "other-host:2"


async def test_mail_for_a_request_closed_while_it_waited_is_cancelled_not_sent(
    sessions, settings, smtp_server, new_request, load
) -> None:
    """A letter back in the queue after a 451 must not reach an agency once the request is withdrawn, nor a
    reminder once the agency has answered in full; a reminder for a request still open goes out."""
    withdrawn = new_request(now=T0)
    smtp_server.script_data([451])
    assert (await _drain(settings, sessions, T0)).retried == 1
    answered = new_request(now=T0)
    waiting = new_request(now=T0)
    with sessions.begin() as s:
        s.get(Request, withdrawn).state = "withdrawn"
        for rid, state in ((answered, "completed"), (waiting, "sent")):
            s.get(Request, rid).state = state
            s.execute(Outbox.__table__.delete().where(Outbox.request_id == rid))
            msg = build_message(sender_name="Desk", sender_address="records@example.org",
                                to=["cityclerk@beverlyhills.example"], subject="Reminder", text="A polite reminder.")
            enqueue(s, msg, kind="followup", request_id=rid, agency_id=s.get(Request, rid).agency_id, not_before=T0)

    report = await _drain(settings, sessions, T0 + dt.timedelta(minutes=5))
    assert (report.cancelled, report.sent) == (2, 1)
    assert [m.message["Subject"] for m in smtp_server.messages] == ["Reminder"]
    assert (_row(sessions, withdrawn).state, _row(sessions, answered).state) == ("cancelled", "cancelled")
    assert "withdrawn" in (_row(sessions, withdrawn).last_error or "")
    assert _row(sessions, waiting).state == "sent"
    assert load(withdrawn).state == "withdrawn"
