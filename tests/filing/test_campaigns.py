"""Campaigns: one request per agency, all-or-nothing drafting, the rollup, bulk withdraw and follow-ups."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from agent.db.models import Agency, Campaign, Outbox, Request, ReviewItem
from agent.deadlines.compute import compute_deadline
from agent.filing import campaigns as camp
from agent.filing.letters import LetterError
from agent.requests import lifecycle

ALPR = {"years": "2019-2024"}


def everyone(session) -> list[Agency]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Agency).order_by(Agency.name)))


def test_fan_out_one_request_per_agency(directory, settings, now, book) -> None:
    with directory.begin() as session:
        # A sample of both jurisdictions is enough here: test_campaign_mail.py sends the full sixty.
        agencies = [a for a in everyone(session) if a.jurisdiction == "CA"][:20] + [a for a in everyone(session) if a.jurisdiction == "US"]
        seen: list[int] = []
        campaign = camp.create_campaign(
            session, template="alpr", agencies=agencies + agencies[:3], variables=ALPR, settings=settings, now=now,
            name="ALPR 2025", book=book, on_request=lambda r: seen.append(r.id),
        )
        report = camp.send_campaign(session, campaign, settings, now, book=book)
        requests = camp.campaign_requests(session, campaign)
        outbox = camp.outbox_for(session, campaign)
        by_agency = {r.agency_id: r for r in requests}
        letters = {r.id: (r.jurisdiction, r.body) for r in requests}
    assert len(agencies) == 24 and len(requests) == 24 and len(seen) == 24  # duplicates in the list are dropped
    assert len(by_agency) == 24
    assert len(report.queued) == 24 and report.skipped == ()
    assert len(outbox) == 24
    assert len({o.message_id for o in outbox}) == 24
    assert len({r.reply_address for r in requests}) == 24
    assert len({r.reference for r in requests}) == 24
    assert {r.state for r in requests} == {"queued"}
    filed_on = dt.date(2025, 2, 11)
    for jurisdiction, body in letters.values():
        deadline = compute_deadline(book.statutes[jurisdiction], filed_on, book.calendar)
        assert f"{deadline.due:%B} {deadline.due.day}, {deadline.due.year}" in body
        assert book.statutes[jurisdiction].citation in body
    assert {j for j, _ in letters.values()} == {"CA", "US"}


def test_a_bad_letter_stops_the_whole_campaign(directory, settings, now, book) -> None:
    with pytest.raises(LetterError, match="is for jurisdiction"):
        with directory.begin() as session:
            camp.create_campaign(
                session, template="cpra_general", agencies=everyone(session),
                variables={"topic": "x", "records": "y"}, settings=settings, now=now, book=book,
            )
    with directory.begin() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def _campaign(directory, settings, now, book, n: int = 12) -> int:  # type: ignore[no-untyped-def]
    with directory.begin() as session:
        agencies = [a for a in everyone(session) if a.jurisdiction == "CA"][:n]
        campaign = camp.create_campaign(session, template="alpr", agencies=agencies, variables=ALPR, settings=settings, now=now, book=book)
        camp.send_campaign(session, campaign, settings, now, book=book)
        return campaign.id


def test_rollup_counts(directory, settings, now, book) -> None:
    campaign_id = _campaign(directory, settings, now, book)
    today = dt.date(2025, 3, 20)
    sent_at = now
    with directory.begin() as session:
        campaign = session.get(Campaign, campaign_id)
        r = camp.campaign_requests(session, campaign)
        for request in r[:10]:
            lifecycle.mark_sent(session, request, sent_at, rules_dir=settings.rules_path)
        # r[0], r[1]: sent, deadline long past -> overdue
        lifecycle.fire(session, r[2], "acknowledgment", cause="message", actor="t")
        r[2].next_action_date = today + dt.timedelta(days=3)  # acknowledged and not yet due
        lifecycle.fire(session, r[3], "extension", cause="message", actor="t")
        r[3].extended_due = r[3].next_action_date = dt.date(2025, 3, 10)  # extended, and that date has passed
        lifecycle.fire(session, r[4], "batch", cause="message", actor="t")
        r[4].next_action_date = today + dt.timedelta(days=10)
        lifecycle.fire(session, r[5], "final_records", cause="message", actor="t")
        lifecycle.fire(session, r[6], "no_records", cause="message", actor="t")
        lifecycle.fire(session, r[7], "denial", cause="message", actor="t")
        lifecycle.fire(session, r[8], "review", cause="message", actor="t")
        lifecycle.fire(session, r[9], "fee", cause="message", actor="t")
        session.add(ReviewItem(kind="fee", request_id=r[9].id, reason="fee of $25"))
        session.add(ReviewItem(kind="low_confidence", request_id=r[5].id, reason="done", state="done"))
        # r[10] still queued, r[11] withdrawn before it left.
        camp.withdraw(session, r[11])
        ids = [x.id for x in r]
    with directory.begin() as session:
        roll = camp.rollup(session, session.get(Campaign, campaign_id), today=today)
    assert roll.total == 12
    assert roll.sent == 10
    assert (roll.acknowledged, roll.extended, roll.partial) == (1, 1, 1)
    assert (roll.completed, roll.no_records, roll.rejected) == (1, 1, 1)
    assert roll.overdue == 3 and set(roll.overdue_ids) == {ids[0], ids[1], ids[3]}
    assert roll.needing_review == 2 and set(roll.review_ids) == {ids[8], ids[9]}
    assert roll.by_state["queued"] == 1 and roll.by_state["withdrawn"] == 1 and roll.by_state["sent"] == 2
    assert roll.as_dict()["by_state"]["fee_required"] == 1


def test_withdraw_campaign(directory, settings, now, book) -> None:
    campaign_id = _campaign(directory, settings, now, book, n=5)
    with directory.begin() as session:
        r = camp.campaign_requests(session, session.get(Campaign, campaign_id))
        lifecycle.mark_sent(session, r[0], now, rules_dir=settings.rules_path)
        lifecycle.fire(session, r[1], "mail_sent", cause="system", actor="t")
        lifecycle.fire(session, r[1], "final_records", cause="message", actor="t")
    with directory.begin() as session:
        changed = len(camp.withdraw_campaign_requests(session, session.get(Campaign, campaign_id), settings=settings))
    assert changed == 4
    with directory.begin() as session:
        states = [x.state for x in camp.campaign_requests(session, session.get(Campaign, campaign_id))]
        rows = camp.outbox_for(session, session.get(Campaign, campaign_id))
        letters = {o.request_id: o.state for o in rows if o.kind == "request"}
        notices = [o.request_id for o in rows if o.kind == "withdrawal"]
        ids = [x.id for x in camp.campaign_requests(session, session.get(Campaign, campaign_id))]
        assert states == ["withdrawn", "completed", "withdrawn", "withdrawn", "withdrawn"]
        # Mail of withdrawn requests that had not left is cancelled; the closed request is left alone.
        assert [letters[i] for i in ids] == ["cancelled", "queued", "cancelled", "cancelled", "cancelled"]
        # r[0] was filed: its agency is told; the others never got a letter.
        assert notices == [ids[0]]
        again = len(camp.withdraw_campaign_requests(session, session.get(Campaign, campaign_id), settings=settings))
    assert again == 0


def test_followups_now(directory, settings, now, book) -> None:
    campaign_id = _campaign(directory, settings, now, book, n=4)
    today = dt.date(2025, 3, 3)
    later = dt.datetime(2025, 3, 3, 17, 0, tzinfo=dt.timezone.utc)
    with directory.begin() as session:
        r = camp.campaign_requests(session, session.get(Campaign, campaign_id))
        for request in r[:3]:
            lifecycle.mark_sent(session, request, now, rules_dir=settings.rules_path)
        r[1].promised_date = dt.date(2025, 3, 20)  # the agency promised a later date: not due
        lifecycle.fire(session, r[2], "fee", cause="message", actor="t")  # waiting on us: never followed up
        # r[3] never left the outbox.
        ids = [x.id for x in r]
        message_id = r[0].message_id
    with directory.begin() as session:
        report = camp.followup_campaign(session, session.get(Campaign, campaign_id), settings, later, today=today)
    assert report.queued == (ids[0],)
    assert report.skipped == ((ids[1], "not past its deadline yet"),)
    with directory.begin() as session:
        followup = session.scalars(select(Outbox).where(Outbox.kind == "followup")).one()
        assert followup.request_id == ids[0]
        raw = followup.raw.decode()
        assert f"In-Reply-To: {message_id}" in raw
        assert re.search(r"Subject: Re: \[RA-2025-\d{4}\]", raw)
        assert session.get(Request, ids[0]).followups_sent == 1
        # Asking twice the same day does not mail twice.
        again = camp.followup_campaign(session, session.get(Campaign, campaign_id), settings, later, today=today)
    assert again.queued == () and (ids[0], "already followed up today") in again.skipped
