"""What agency replies do to a request: promises, auto-replies, bounces, fees, clarifications, doubtful readings."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlalchemy import select

from agent.db.models import Outbox, ReviewItem
from agent.followups.scan import scan_once
from agent.outbox.send import drain_once
from agent.pipeline.stage_data import Fee

UTC = dt.timezone.utc


def at(day: str, hour: int = 17) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _scan(sessions, settings, day: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(day), tick=True):
        return scan_once(sessions, settings, today=dt.date.fromisoformat(day))


async def _file(settings, sessions, new_request, day: str, **kw) -> int:  # type: ignore[no-untyped-def]
    rid = new_request(now=at(day), **kw)
    with time_machine.travel(at(day, 18), tick=True):
        report = await drain_once(settings, sessions, worker_id="w1")
    assert report.sent == 1
    return rid


def _followups(sessions, rid: int) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return len(list(s.scalars(select(Outbox.id).where(Outbox.kind == "followup", Outbox.request_id == rid))))


def _reviews(sessions, rid: int) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(ReviewItem.kind).where(ReviewItem.request_id == rid).order_by(ReviewItem.id)))


async def test_desert_hot_springs_promise(sessions, settings, new_request, reply, load) -> None:
    """Filed 02/08/2021; 'records by March 1, 2021' on 02/19: no reminder before, one after, if nothing comes."""
    rid = await _file(
        settings, sessions, new_request, "2021-02-08",
        agency="Desert Hot Springs Police Department", email="records@cityofdhs.example",
    )
    assert load(rid).due_date == dt.date(2021, 2, 18)
    events = reply(rid, now=at("2021-02-19"), label="acknowledgment", expected=dt.date(2021, 3, 1))
    assert events[0][2] == "acknowledged"
    req = load(rid)
    assert req.promised_date == dt.date(2021, 3, 1)
    assert req.next_action_date == dt.date(2021, 3, 2)  # the first business day after the promise
    for day in ("2021-02-19", "2021-02-22", "2021-03-01"):
        assert _scan(sessions, settings, day).queued == 0
    assert _scan(sessions, settings, "2021-03-02").queued == 1
    assert _followups(sessions, rid) == 1


async def test_desert_hot_springs_answer_before_the_promise_means_no_followup(
    sessions, settings, new_request, reply, load
) -> None:
    rid = await _file(settings, sessions, new_request, "2021-02-08", email="records@cityofdhs.example")
    reply(rid, now=at("2021-02-19"), label="acknowledgment", expected=dt.date(2021, 3, 1))
    assert reply(rid, now=at("2021-02-26"), label="final_records")[0][2] == "completed"
    assert _scan(sessions, settings, "2021-03-02").due == 0
    assert _followups(sessions, rid) == 0


async def test_auto_replies_and_bounces_are_never_answered_or_counted(sessions, settings, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-02-11")
    before = load(rid)
    assert reply(rid, now=at("2025-02-12"), kind="auto_reply") == [("auto_reply_ignored", "sent", "sent")]
    after = load(rid)
    # An out-of-office is not an answer: the clock, the schedule and the reply time are untouched.
    assert (after.state, after.last_reply_at, after.next_action_date) == ("sent", None, before.next_action_date)
    # A classifier that calls a reply an auto-reply is treated the same way.
    reply(rid, now=at("2025-02-13"), label="auto_reply", kind="reply")
    assert load(rid).last_reply_at is None
    assert _scan(sessions, settings, "2025-02-24").queued == 1  # the deadline still passes as normal

    other = await _file(settings, sessions, new_request, "2025-02-11", email="nobody@other.example")
    # Something that only looks like a bounce (not tied to our letter) changes nothing: a person looks at it.
    assert reply(other, now=at("2025-02-12"), kind="bounce") == [("bounce_unverified", "sent", "sent")]
    req = load(other)
    assert req.state == "sent" and "undeliverable" not in (req.flags or {})
    assert _reviews(sessions, other) == ["suspect_bounce"]
    # A delivery report for our own letter proposes "undeliverable" and leaves the request as it is (its text could
    # be forged by anyone who saw our Message-ID); a person closes it.
    before = load(other).next_action_date
    assert reply(other, now=at("2025-02-12"), kind="bounce", bounce_proof="a delivery report from our mail server") == [
        ("bounce_reported", "sent", "sent")]
    req = load(other)
    assert req.state == "sent" and "undeliverable" not in (req.flags or {}) and req.next_action_date == before
    assert _reviews(sessions, other) == ["suspect_bounce", "bounce"]
    from agent.operators.review import confirm

    with sessions.begin() as s:
        item = s.scalars(select(ReviewItem).where(ReviewItem.request_id == other, ReviewItem.kind == "bounce")).one()
        result = confirm(s, item.id, operator="tester", now=at("2025-02-13"), rules_dir=settings.rules_path)
    assert result.request_state == "undeliverable"
    req = load(other)
    assert req.state == "undeliverable" and req.flags["undeliverable"] is True and req.next_action_date is None
    _scan(sessions, settings, "2025-03-31")
    assert _followups(sessions, other) == 0
    with sessions() as s:
        # Nothing was ever queued in answer to either message.
        replies = s.scalars(select(Outbox).where(Outbox.kind.in_(("reply", "followup")), Outbox.request_id == other))
        assert list(replies) == []


async def test_fee_and_clarification_stop_followups_until_a_person_acts(sessions, settings, new_request, reply, load) -> None:
    fee = await _file(settings, sessions, new_request, "2025-02-11", email="a@fee.example")
    clar = await _file(settings, sessions, new_request, "2025-02-11", email="b@clar.example")
    reply(fee, now=at("2025-02-14"), label="fee", fees=(Fee(amount=42.5),))
    reply(clar, now=at("2025-02-14"), label="clarification")
    assert load(fee).state == "fee_required" and load(clar).state == "clarification_needed"
    assert _reviews(sessions, fee) == ["fee"] and _reviews(sessions, clar) == ["clarification"]
    for day in ("2025-02-24", "2025-03-10", "2025-06-02"):
        assert _scan(sessions, settings, day).due == 0
    assert _followups(sessions, fee) == _followups(sessions, clar) == 0


async def test_low_confidence_goes_to_review_and_pauses_the_timer(sessions, settings, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-02-11")
    events = reply(rid, now=at("2025-02-14"), label="final_records", confidence=0.3)
    assert events[0][2] == "needs_review"
    assert load(rid).state == "needs_review"
    assert _reviews(sessions, rid) == ["low_confidence"]
    assert _scan(sessions, settings, "2025-02-24").due == 0


async def test_unexpected_label_is_refused_not_applied(sessions, settings, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-02-11")
    reply(rid, now=at("2025-02-14"), label="denial")
    assert load(rid).state == "rejected"
    events = reply(rid, now=at("2025-02-20"), label="batch")
    assert events[0][0] == "unexpected_message"
    assert load(rid).state == "rejected"
    assert "unexpected" in _reviews(sessions, rid)


async def test_extension_without_a_date_uses_the_statutory_maximum(sessions, settings, new_request, reply, load) -> None:
    rid = await _file(settings, sessions, new_request, "2025-02-11")
    reply(rid, now=at("2025-02-20"), label="extension")
    req = load(rid)
    assert req.extended_due == dt.date(2025, 3, 7) and req.next_action_date == dt.date(2025, 3, 10)


async def test_after_a_withdrawal_only_a_bill_or_a_question_needs_a_person(
    sessions, settings, new_request, reply, load
) -> None:
    from agent.db.models import Request

    rid = await _file(settings, sessions, new_request, "2025-02-11")
    with sessions.begin() as s:
        s.get(Request, rid).state = "withdrawn"
    events = reply(rid, now=at("2025-02-14"), label="no_records")  # "your request has been closed"
    assert events[0][0] == "reply_after_withdrawal"
    reply(rid, now=at("2025-02-15"), label="final_records")  # what the clerk had already gathered
    assert load(rid).state == "withdrawn" and _reviews(sessions, rid) == []
    reply(rid, now=at("2025-02-18"), label="fee", fees=(Fee(25.0, "USD", "estimate", "$25.00"),))
    assert load(rid).state == "withdrawn" and _reviews(sessions, rid) == ["unexpected"]
