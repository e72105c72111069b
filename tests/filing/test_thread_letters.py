"""Thread letters: any letter in a request's thread cites it by headers and goes to the outbox as one row."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from agent.db.models import Outbox, TrackingNumber
from agent.filing.thread import ThreadLetterError, queue_thread_letter, thread_facts

from tests.filing.test_withdraw import FILED, LATER, _draft, _inbound, _sent


def test_a_template_letter_threads_under_the_latest_reply_and_names_the_agencys_number(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        session.add(TrackingNumber(request_id=request.id, agency_id=request.agency_id, value="PRR-25-0042"))
        first = _inbound(session, request, FILED + dt.timedelta(days=2))
        latest = _inbound(session, request, FILED + dt.timedelta(days=9))
        _inbound(session, request, FILED + dt.timedelta(days=10), kind="auto_reply")
        row = queue_thread_letter(
            session, request, kind="reply", settings=settings, now=LATER,
            template="withdrawal.txt.j2", variables={"reason": "test"},
        )
        letter_id, subject, reference = request.message_id, request.subject, request.reference
        assert session.scalars(select(Outbox).where(Outbox.request_id == request.id, Outbox.kind == "reply")).all() == [row]
    msg = message_from_bytes(row.raw, policy=default_policy)
    assert msg["Subject"] == f"Re: {subject}"
    assert msg["In-Reply-To"] == latest
    assert msg["References"].split() == [letter_id, first, latest]
    body = msg.get_content()
    assert "PRR-25-0042" in body and reference in body and "February 11, 2025" in body


def test_written_text_goes_out_as_written(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        facts = thread_facts(session, request, settings, LATER)
        assert facts is not None and facts.thread_ids == (request.message_id,)
        row = queue_thread_letter(session, request, kind="reply", settings=settings, now=LATER, text="Yes, still interested.\n")
    msg = message_from_bytes(row.raw, policy=default_policy)
    assert msg.get_content().strip() == "Yes, still interested."
    assert msg["In-Reply-To"] == facts.thread_ids[-1]


def test_refuses_clashing_variables_empty_text_and_no_address(directory, settings, book) -> None:
    with directory.begin() as session:
        request = _sent(session, settings, book)
        with pytest.raises(ThreadLetterError, match="reference"):
            queue_thread_letter(session, request, kind="reply", settings=settings, now=LATER,
                                template="withdrawal.txt.j2", variables={"reason": "", "reference": "X"})
        with pytest.raises(ThreadLetterError, match="empty"):
            queue_thread_letter(session, request, kind="reply", settings=settings, now=LATER, text="  \n")
        draft = _draft(session, settings, book)
        draft.agency.emails = []
        with pytest.raises(ThreadLetterError, match="no email address"):
            queue_thread_letter(session, draft, kind="reply", settings=settings, now=LATER, text="hello")
        assert session.scalars(select(Outbox).where(Outbox.kind == "reply")).all() == []
