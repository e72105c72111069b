"""Withdrawing a request: the agency that got our letter is told, once, in the request's own thread."""

from __future__ import annotations

import datetime as dt
import itertools
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.db.models import Campaign, Event, Message, Outbox, Request, TrackingNumber
from agent.filing import campaigns as camp
from agent.filing.directory import find_agency
from agent.filing.requests import FilingError, create_request, send_request, withdraw
from agent.mail.archive import Archived
from agent.outbox.record import record_sent
from agent.requests import lifecycle

ALPR = {"years": "2019-2024"}
SD = "San Diego County Sheriff's Department"
# 19:00 on 11 February in California is already the 12th in UTC: the notice must say the 11th.
FILED = dt.datetime(2025, 2, 12, 3, 0, tzinfo=dt.timezone.utc)
LATER = FILED + dt.timedelta(days=20)
_serial = itertools.count(1)


def _draft(session: Session, settings, book, agency: str = SD, when: dt.datetime = FILED) -> Request:  # type: ignore[no-untyped-def]
    return create_request(
        session, agency=find_agency(session, agency), template="alpr", variables=ALPR, settings=settings, now=when, book=book
    )


def _sent(session: Session, settings, book, agency: str = SD) -> Request:  # type: ignore[no-untyped-def]
    """A request whose letter the outbox really recorded as sent (state sent, clock started, outbound Message row)."""
    request = _draft(session, settings, book, agency)
    row = send_request(session, request, settings, FILED, book=book)
    n = next(_serial)
    record_sent(session, settings, row, Archived(key=f"out-{n}", sha256=f"{n:064x}", size=len(row.raw)), FILED)
    assert request.state == "sent" and request.filed_at is not None
    return request


def _inbound(session: Session, request: Request, when: dt.datetime, kind: str = "reply") -> str:
    n = next(_serial)
    mid = f"<in-{n}@sdsheriff.example.gov>"
    session.add(
        Message(
            direction="in", dedupe_key=mid, message_id=mid, sha256=f"{n:064x}", archive_key=f"in-{n}",
            request_id=request.id, status="processed", subject=f"Re: {request.subject}",
            from_addr="records@sdsheriff.example.gov", kind=kind, received_at=when,
        )
    )
    session.flush()
    return mid


def _rows(session: Session, request_id: int, kind: str) -> list[Outbox]:
    return list(session.scalars(select(Outbox).where(Outbox.request_id == request_id, Outbox.kind == kind).order_by(Outbox.id)))


def _withdraw_event(session: Session, request_id: int) -> Event:
    return session.scalars(
        select(Event).where(Event.request_id == request_id, Event.to_state == "withdrawn").order_by(Event.id)
    ).one()


def test_a_sent_request_gets_one_notice_in_its_thread(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        session.add(TrackingNumber(request_id=request.id, agency_id=request.agency_id, value="PRR-25-0042"))
        first = _inbound(session, request, FILED + dt.timedelta(days=2))
        latest = _inbound(session, request, FILED + dt.timedelta(days=9))
        _inbound(session, request, FILED + dt.timedelta(days=10), kind="auto_reply")  # not part of the conversation
        result = withdraw(session, request, settings=settings, reason="duplicate of RA-2025-0001", now=LATER)
        request_id, reference, subject = request.id, request.reference, request.subject
        reply_to, letter_id, agency_name = request.reply_address, request.message_id, request.agency.name
        assert result is not None and result.notice_id is not None and result.no_notice is None

    with directory.begin() as session:
        request = session.get(Request, request_id)
        assert request.state == "withdrawn"
        notices = _rows(session, request_id, "withdrawal")
        assert len(notices) == 1 and notices[0].id == result.notice_id
        notice = notices[0]
        assert notice.state == "queued" and notice.agency_id == request.agency_id
        assert notice.recipients == ["records@sdsheriff.example.gov", "pra@sdsheriff.example.gov"]
        # The letter itself was sent, not cancelled.
        assert [r.state for r in _rows(session, request_id, "request")] == ["sent"]
        event = _withdraw_event(session, request_id)
        assert event.detail["notice_outbox_id"] == notice.id
        assert event.detail["notice_message_id"] == notice.message_id
        assert event.detail["no_notice"] is None and event.detail["reason"] == "duplicate of RA-2025-0001"
        assert event.actor == "filing" and event.cause == "operator"
        raw, notice_mid = notice.raw, notice.message_id

    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Message-ID"] == notice_mid
    assert msg["Subject"] == f"Re: {subject}"
    # The agency's name on each address, and the date as the desk's clock (Los Angeles, PST in February) shows it.
    assert [a.addr_spec for a in msg["To"].addresses] == ["records@sdsheriff.example.gov", "pra@sdsheriff.example.gov"]
    assert {a.display_name for a in msg["To"].addresses} == {agency_name}
    assert msg["Date"].endswith("-0800") and msg["Date"].datetime == LATER
    assert msg["Reply-To"] == reply_to
    assert msg["From"] == "Records Desk <records@example.org>"
    assert msg["In-Reply-To"] == latest
    assert msg["References"].split() == [letter_id, first, latest]
    body = msg.get_content()
    assert reference in body and "withdraw" in body
    assert "February 11, 2025" in body and "February 12" not in body
    assert "PRR-25-0042" in body
    assert "no further search" in body.lower() and "thank you" in body.lower()
    assert body.rstrip().endswith("Records Desk")
    # Our history note is ours: the agency is given a reason only when one is written for it.
    assert "duplicate" not in body and "Reason:" not in body


def test_withdrawing_twice_or_after_a_reopen_sends_one_notice(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        assert withdraw(session, request, settings=settings, now=LATER) is not None
        assert withdraw(session, request, settings=settings, now=LATER) is None
        assert withdraw(session, request, settings=settings, now=LATER) is None
        # Reopened by mistake and withdrawn again before the outbox ran: the queued notice is still the one.
        lifecycle.fire(session, request, "reopen", cause="operator", actor="t")
        again = withdraw(session, request, settings=settings, now=LATER)
        assert again is not None and again.notice_id is None
        assert again.no_notice is not None and "already in the outbox" in again.no_notice
        notices = _rows(session, request.id, "withdrawal")
        assert len(notices) == 1 and notices[0].state == "queued"


def test_a_draft_or_a_still_queued_letter_gets_no_notice(directory, settings, book) -> None:
    with directory.begin() as session:
        draft = _draft(session, settings, book)
        queued = _draft(session, settings, book, agency="Galt Police Department")
        letter = send_request(session, queued, settings, FILED, book=book)
        first = withdraw(session, draft, settings=settings, now=LATER)
        second = withdraw(session, queued, settings=settings, now=LATER)
        session.refresh(letter)
        assert first is not None and second is not None
        assert (first.notice_id, first.no_notice, first.outbox_cancelled) == (None, "never sent to the agency", 0)
        assert (second.notice_id, second.no_notice, second.outbox_cancelled) == (None, "never sent to the agency", 1)
        assert letter.state == "cancelled" and letter.last_error == "request withdrawn"
        assert session.scalars(select(Outbox).where(Outbox.kind == "withdrawal")).all() == []
        assert _withdraw_event(session, queued.id).detail["no_notice"] == "never sent to the agency"
        assert _withdraw_event(session, queued.id).detail["notice_outbox_id"] is None


def test_a_letter_in_doubt_counts_as_sent(directory, settings, book) -> None:
    """`uncertain` (a crash mid-send) and `sending` (on the wire now) may have reached the agency: tell it."""
    with directory.begin() as session:
        made = {}
        for state in ("uncertain", "sending"):
            request = _draft(session, settings, book)
            row = send_request(session, request, settings, FILED, book=book)
            row.state, row.smtp_started_at = state, FILED
            made[state] = request
        session.flush()
        for state, request in made.items():
            result = withdraw(session, request, settings=settings, now=LATER)
            assert result is not None and result.notice_id is not None, state
            notice = session.get(Outbox, result.notice_id)
            assert "February 11, 2025" in message_from_bytes(notice.raw, policy=default_policy).get_content()
            # Not cancelled: it may be out already, and only queued mail can be called back.
            assert [r.state for r in _rows(session, request.id, "request")] == [state]


def test_no_notice_when_asked_and_reason_when_given(directory, settings, book) -> None:
    with directory.begin() as session:
        quiet = _sent(session, settings, book)
        told = _sent(session, settings, book, agency="Galt Police Department")
        skipped = withdraw(session, quiet, settings=settings, notice=False, now=LATER)
        assert skipped is not None and (skipped.notice_id, skipped.no_notice) == (None, "not requested")
        assert _rows(session, quiet.id, "withdrawal") == []
        assert _withdraw_event(session, quiet.id).detail["no_notice"] == "not requested"
        result = withdraw(session, told, settings=settings, notice_reason="We found\nthe records elsewhere.", now=LATER)
        assert result is not None
        body = message_from_bytes(session.get(Outbox, result.notice_id).raw, policy=default_policy).get_content()
        assert "Reason: We found the records elsewhere." in body
        assert _rows(session, told.id, "withdrawal")[0].recipients == ["records@galt.example.gov"]


def test_a_notice_due_without_settings_is_an_error_not_silence(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        request_id = request.id
    with pytest.raises(FilingError, match="withdrawal notice"):
        with directory.begin() as session:
            withdraw(session, session.get(Request, request_id), now=LATER)
    with directory.begin() as session:
        assert session.get(Request, request_id).state == "sent"
        # Without settings it can still be withdrawn quietly, by saying so.
        assert withdraw(session, session.get(Request, request_id), notice=False, now=LATER) is not None


def test_campaign_withdraw_tells_only_the_agencies_that_got_the_letter(directory, settings, book) -> None:
    with directory.begin() as session:
        agencies = [find_agency(session, n) for n in (SD, "Galt Police Department", "Beverly Hills Police Department")]
        campaign = camp.create_campaign(session, template="alpr", agencies=agencies, variables=ALPR, settings=settings, now=FILED, book=book)
        r = camp.campaign_requests(session, campaign)
        # r[0] sent, r[1] queued (its letter is cancelled), r[2] still a draft.
        row = send_request(session, r[0], settings, FILED, book=book)
        record_sent(session, settings, row, None, FILED)
        send_request(session, r[1], settings, FILED, book=book)
        campaign_id, ids = campaign.id, [x.id for x in r]
    with directory.begin() as session:
        results = camp.withdraw_campaign_requests(session, session.get(Campaign, campaign_id), settings=settings, now=LATER)
        assert [x.request_id for x in results] == ids
        assert [x.notice_id is not None for x in results] == [True, False, False]
        assert [x.no_notice for x in results] == [None, "never sent to the agency", "never sent to the agency"]
    with directory.begin() as session:
        rows = camp.outbox_for(session, session.get(Campaign, campaign_id))
        assert sorted((o.request_id, o.kind, o.state) for o in rows) == sorted(
            [(ids[0], "request", "sent"), (ids[0], "withdrawal", "queued"), (ids[1], "request", "cancelled")]
        )
        # The campaign's default history reason is not put in the notice.
        notice = next(o for o in rows if o.kind == "withdrawal")
        assert "campaign" not in message_from_bytes(notice.raw, policy=default_policy).get_content().lower()
        assert camp.withdraw_campaign_requests(session, session.get(Campaign, campaign_id), settings=settings) == []
        assert len([o for o in camp.outbox_for(session, session.get(Campaign, campaign_id)) if o.kind == "withdrawal"]) == 1


def test_a_broken_notice_template_withdraws_nothing_and_fails_the_rules_check(directory, settings, book, tmp_path) -> None:
    import shutil

    from agent.compose.render import TemplateError
    from agent.config import Settings
    from agent.followups.check import check_rules

    broken = tmp_path / "rules"
    shutil.copytree(settings.rules_path, broken)
    (broken / "templates" / "withdrawal.txt.j2").write_text("Dear {{ agency_nmae }},\n")
    with pytest.raises(TemplateError, match="withdrawal.txt.j2"):
        check_rules(broken)
    with directory.begin() as session:
        request = _sent(session, settings, book)
        request_id = request.id
    bad = Settings.model_validate({"rules": {"path": str(broken)}})
    with pytest.raises(TemplateError, match="withdrawal.txt.j2"):
        with directory.begin() as session:
            withdraw(session, session.get(Request, request_id), settings=bad, now=LATER)
    with directory.begin() as session:
        assert session.get(Request, request_id).state == "sent"
        assert _rows(session, request_id, "withdrawal") == []
