"""Requests: unique references and reply addresses, a fixed Message-ID, draft → queued with an Event."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.db.models import Agency, Event, Outbox, Request
from agent.filing.directory import find_agency
from agent.filing.letters import LetterError
from agent.filing.requests import FilingError, create_request, get_request, parse_vars, send_request, withdraw

ALPR = {"years": "2019-2024"}


def test_drafts_get_unique_reference_and_reply_address(directory, settings, now, book) -> None:
    with directory.begin() as session:
        agencies = list(session.scalars(select(Agency).order_by(Agency.id)))[:12]
        made = [
            create_request(session, agency=a, template="alpr", variables=ALPR, settings=settings, now=now, book=book)
            for a in agencies
        ]
        # Two drafts to the same agency are still two requests with their own addresses.
        made.append(create_request(session, agency=agencies[0], template="alpr", variables=ALPR, settings=settings, now=now, book=book))
    refs = [r.reference for r in made]
    assert len(set(refs)) == len(made)
    assert all(ref.startswith("RA-2025-") for ref in refs)
    replies = [r.reply_address for r in made]
    assert len(set(replies)) == len(made)
    for request in made:
        assert request.reply_address.startswith(f"records+{request.reference.lower()}-")
        assert request.reply_address.endswith("@example.org")
        assert request.subject.startswith(f"[{request.reference}] ")
        assert request.state == "draft" and request.message_id is None
    with directory.begin() as session:
        events = list(session.scalars(select(Event).where(Event.request_id == made[0].id)))
        assert [(e.kind, e.to_state) for e in events] == [("created", "draft")]
        assert events[0].detail["citation"] == "Cal. Gov. Code § 7922.535(a)"
        assert get_request(session, made[0].reference.lower()).id == made[0].id
        assert get_request(session, str(made[0].id)).reference == made[0].reference


def test_plus_addressing_can_be_turned_off(directory, settings_factory, now, book) -> None:
    settings = settings_factory(plus_addressing=False, reference_prefix="PRR")
    with directory.begin() as session:
        request = create_request(
            session, agency=find_agency(session, "Galt Police Department"), template="alpr", variables=ALPR,
            settings=settings, now=now, book=book,
        )
        row = send_request(session, request, settings, now, book=book)
    assert request.reference.startswith("PRR-2025-") and request.reply_address is None
    assert "Reply-To" not in message_from_bytes(row.raw)


def test_template_error_leaves_no_draft(directory, settings, now, book) -> None:
    with pytest.raises(LetterError, match="years"):
        with directory.begin() as session:
            create_request(
                session, agency=find_agency(session, "Galt Police Department"), template="alpr", variables={},
                settings=settings, now=now, book=book,
            )
    with directory.begin() as session:
        assert session.scalars(select(Request)).first() is None


def test_send_builds_and_queues_the_mail(directory, settings, now, book) -> None:
    created = now - dt.timedelta(days=5)
    with directory.begin() as session:
        agency = find_agency(session, "San Diego County Sheriff's Department")
        request = create_request(session, agency=agency, template="alpr", variables=ALPR, settings=settings, now=created, book=book)
        assert "February 18, 2025" in request.body  # 6 Feb + 10 = Sun 16, Presidents Day 17: the 18th ...
        row = send_request(session, request, settings, now, book=book)
        request_id, reference, reply, message_id = request.id, request.reference, request.reply_address, request.message_id
    assert message_id and message_id == row.message_id
    msg = message_from_bytes(row.raw, policy=default_policy)
    assert msg["Message-ID"] == message_id
    assert msg["Reply-To"] == reply
    assert msg["Subject"].startswith(f"[{reference}] ")
    assert msg["From"] == "Records Desk <records@example.org>"
    assert row.recipients == ["records@sdsheriff.example.gov", "pra@sdsheriff.example.gov"]
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses][0] == (agency.name, "records@sdsheriff.example.gov")
    assert msg["Date"].datetime == now and msg["Date"].datetime.utcoffset() == dt.timedelta(hours=-8)
    body = msg.get_content()
    # ... and re-dated when it actually goes out: 11 Feb + 10 = 21 Feb.
    assert "February 21, 2025" in body and "February 18, 2025" not in body
    assert reference in body
    with directory.begin() as session:
        request = session.get(Request, request_id)
        assert request.state == "queued"
        assert "February 21, 2025" in request.body
        outbox = session.scalars(select(Outbox).where(Outbox.request_id == request_id)).one()
        assert (outbox.kind, outbox.state, outbox.agency_id) == ("request", "queued", request.agency_id)
        kinds = [(e.kind, e.from_state, e.to_state) for e in session.scalars(select(Event).where(Event.request_id == request_id).order_by(Event.id))]
        assert kinds[-1] == ("state_change", "draft", "queued")
        # Only a draft can be sent: a second send would be a second letter.
        with pytest.raises(FilingError, match="not a draft"):
            send_request(session, request, settings, now, book=book)


def test_message_ids_are_unique(directory, settings, now, book) -> None:
    with directory.begin() as session:
        agencies = list(session.scalars(select(Agency).where(Agency.jurisdiction == "CA").order_by(Agency.id)))[:20]
        rows = []
        for agency in agencies:
            request = create_request(session, agency=agency, template="alpr", variables=ALPR, settings=settings, now=now, book=book)
            rows.append(send_request(session, request, settings, now, book=book))
    assert len({r.message_id for r in rows}) == 20
    assert all(r.message_id.endswith("@example.org>") for r in rows)


def test_agency_without_email_cannot_be_sent(directory, settings, now, book) -> None:
    with directory.begin() as session:
        portal_only = Agency(name="Portal Only PD", jurisdiction="CA", emails=[], domains=[], portal_url="https://p.example.gov/pra")
        session.add(portal_only)
        session.flush()
        request = create_request(session, agency=portal_only, template="alpr", variables=ALPR, settings=settings, now=now, book=book)
        with pytest.raises(FilingError, match="no email address.*https://p.example.gov/pra"):
            send_request(session, request, settings, now, book=book)


def test_withdraw_cancels_queued_mail(directory, settings, now, book) -> None:
    with directory.begin() as session:
        request = create_request(
            session, agency=find_agency(session, "Galt Police Department"), template="alpr", variables=ALPR,
            settings=settings, now=now, book=book,
        )
        row = send_request(session, request, settings, now, book=book)
        assert withdraw(session, request, reason="duplicate") is not None
        assert withdraw(session, request) is None
        session.refresh(row)
        assert row.state == "cancelled" and request.state == "withdrawn"


def test_parse_vars(tmp_path: Path) -> None:
    records = tmp_path / "records.txt"
    records.write_text("1. Contracts\n2. Audits\n")
    assert parse_vars(["topic=ALPR = plates", "records=@" + str(records), "note=a\\nb"]) == {
        "topic": "ALPR = plates",
        "records": "1. Contracts\n2. Audits",
        "note": "a\nb",
    }
    for bad in (["novalue"], ["1x=y"], ["=y"], ["records=@" + str(tmp_path / "missing.txt")]):
        with pytest.raises(FilingError):
            parse_vars(bad)
