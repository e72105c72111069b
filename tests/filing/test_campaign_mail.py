"""A 60-agency campaign through a real SMTP server (aiosmtpd), then replies through a real IMAP server (Dovecot).

Every letter must leave as its own message with its own reply address and Message-ID and the deadline of
its agency's jurisdiction; every reply must come back to the right request, whichever evidence it carries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings
from agent.db.models import Agency, Campaign, Message, Request, TrackingNumber
from agent.deadlines.compute import compute_deadline
from agent.filing import campaigns as camp
from agent.filing.directory import parse_agency_csv, upsert_agencies
from agent.filing.requests import local_date
from agent.inbound.poll import poll_once
from agent.mail.inbox import open_inbox
from agent.outbox.send import drain_once

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

PASSWORD_ENV = "RA_FILING_TEST_IMAP_PASSWORD"
# Agencies outside California, so the campaign spans statutes with calendar days, business days and "promptly".
OTHERS = """name,emails,jurisdiction,domains
Phoenix Police Department,records@phoenix.example.gov,AZ,
Denver Police Department,records@denver.example.gov,CO,
Chicago Police Department,foia@chicago.example.gov,IL,
Austin Police Department,records@austin.example.gov,TX,
Metropolitan Police Department,foia@mpd.example.gov,DC,
U.S. Customs and Border Protection,foia@cbp.example.gov,US,
"""


@pytest.fixture
def mail_settings(tmp_path: Path, db_url: str, rules_dir: Path, smtp_server, imap_account, monkeypatch) -> Settings:  # type: ignore[no-untyped-def]
    from support.dovecot import PASSWORD

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return Settings.model_validate(
        {
            "database": {"url": db_url},
            "archive": {"path": str(tmp_path / "mailbox")},
            "attachments": {"path": str(tmp_path / "attachments")},
            # Sixty letters in one pass: above the account's default 20 a minute.
            "smtp": smtp_server.settings(per_minute=100).model_dump(),
            "inbox": {
                "backend": "imap",
                "account": "filing",
                "imap": {
                    "host": imap_account.host, "port": imap_account.port, "security": "plain",
                    "username": imap_account.user, "password": {"env": PASSWORD_ENV}, "timeout_seconds": 10,
                },
            },
            "rules": {"path": str(rules_dir)},
        }
    )


@pytest.fixture
def sixty(sessions: sessionmaker[Session], ca_rows, book) -> Iterator[list[int]]:  # type: ignore[no-untyped-def]
    others = parse_agency_csv(OTHERS, jurisdictions=set(book.statutes))
    with sessions.begin() as session:
        upsert_agencies(session, [*ca_rows[:54], *others])
        ids = list(session.scalars(select(Agency.id).order_by(Agency.id)))
    assert len(ids) == 60
    yield ids


def reply(*, sender: str, to: str, subject: str, body: str, in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def test_sixty_agencies_out_and_back(sessions, mail_settings: Settings, sixty, smtp_server, imap_account, book) -> None:  # type: ignore[no-untyped-def]
    settings = mail_settings
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:
        agencies = list(session.scalars(select(Agency).where(Agency.id.in_(sixty))))
        campaign = camp.create_campaign(
            session, template="alpr", agencies=agencies, variables={"years": "2019-2024"}, settings=settings,
            now=now, name="ALPR 60", book=book,
        )
        report = camp.send_campaign(session, campaign, settings, now, book=book)
        campaign_id = campaign.id
    assert len(report.queued) == 60

    # ---- out: through the real SMTP server, as the daemon would send it
    for _ in range(5):
        drained = asyncio.run(drain_once(settings, sessions, worker_id="filing-test"))
        if drained.claimed == 0:
            break
        assert drained.failed == 0 and drained.retried == 0
    received = smtp_server.messages
    assert len(received) == 60

    with sessions.begin() as session:
        requests = {r.message_id: r for r in camp.campaign_requests(session, session.get(Campaign, campaign_id))}
        facts = {
            mid: (r.id, r.reference, r.reply_address, r.jurisdiction, list(r.agency.emails), list(r.agency.domains), r.state, r.filed_at)
            for mid, r in requests.items()
        }
        due_dates = {mid: r.due_date for mid, r in requests.items()}
    parser = BytesParser(policy=default_policy)
    mails = [parser.parsebytes(m.data) for m in received]
    assert len({m["Message-ID"] for m in mails}) == 60
    assert len({m["Reply-To"] for m in mails}) == 60
    filed_on = local_date(now, settings)
    for envelope, mail in zip(received, mails):
        request_id, reference, reply_to, jurisdiction, emails, _, state, filed_at = facts[mail["Message-ID"]]
        assert mail["Reply-To"] == reply_to
        assert mail["Subject"].startswith(f"[{reference}] ")
        assert list(envelope.rcpt_tos) == emails
        assert state == "sent" and filed_at is not None
        statute = book.statutes[jurisdiction]
        due = compute_deadline(statute, filed_on, book.calendar).due
        body = mail.get_content()
        assert statute.citation in body, (reference, jurisdiction)
        assert f"{due:%B} {due.day}, {due.year}" in body, (reference, jurisdiction)
        # The date the sender recorded when the mail left is the date the letter promised.
        assert due_dates[mail["Message-ID"]] == due, (reference, jurisdiction)
    assert {f[3] for f in facts.values()} == {"CA", "AZ", "CO", "IL", "TX", "DC", "US"}

    # ---- back: replies delivered into a real Dovecot mailbox
    ordered = sorted(facts.items(), key=lambda item: item[1][0])
    by_reply, by_tracking, by_thread = ordered[:20], ordered[20:40], ordered[40:]
    expected: dict[str, tuple[int, str]] = {}  # reply Message-ID -> (request id, evidence)

    def deliver(raw: bytes, request_id: int, evidence: str) -> None:
        mid = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)["Message-ID"].strip()
        expected[mid] = (request_id, evidence)
        imap_account.append(raw)

    for _, (request_id, _, reply_to, _, _, domains, _, _) in by_reply:
        deliver(reply(sender=f"clerk@{domains[0]}", to=reply_to, subject="Your records request",
                      body="We received your request and are searching for responsive records."), request_id, "reply_address")
    tracking = {}
    for n, (_, (request_id, _, reply_to, _, _, domains, _, _)) in enumerate(by_tracking):
        tracking[request_id] = f"PRR-25-{1100 + n}"
        # The acknowledgment comes to the reply address and teaches the request its tracking number.
        deliver(reply(sender=f"records@{domains[0]}", to=reply_to, subject="Public records request received",
                      body=f"Your public records request has been received and assigned reference number {tracking[request_id]}."),
                request_id, "reply_address")
    for mid, (request_id, _, _, _, _, domains, _, _) in by_thread:
        # A colleague answers from another address; only the threading header ties it to us.
        deliver(reply(sender=f"lieutenant@{domains[0]}", to=settings.identity.address, subject="Re: your email",
                      body="Please see the attached data sharing report.", in_reply_to=mid), request_id, "thread")

    with open_inbox(settings) as inbox:
        first = poll_once(settings, sessions, inbox)
    assert (first.new, first.matched, first.orphaned, first.quarantined) == (60, 60, 0, 0)
    with sessions.begin() as session:
        learned = {
            t.request_id: t.value
            for t in session.scalars(select(TrackingNumber).where(TrackingNumber.request_id.in_(list(tracking))))
        }
    assert learned == tracking

    # Later mail carries only the tracking number: no reply address, no threading, no reference.
    for request_id, number in tracking.items():
        domains = next(f[5] for f in facts.values() if f[0] == request_id)
        deliver(reply(sender=f"records@{domains[0]}", to=settings.identity.address, subject="Records ready",
                      body=f"The first batch of records for request {number} is attached."), request_id, "tracking_number")
    with open_inbox(settings) as inbox:
        second = poll_once(settings, sessions, inbox)
    assert (second.new, second.matched, second.orphaned, second.quarantined) == (20, 20, 0, 0)

    with sessions.begin() as session:
        rows = list(session.scalars(select(Message).where(Message.direction == "in")))
        roll = camp.rollup(session, session.get(Campaign, campaign_id), today=filed_on)
    assert len(rows) == 80
    for row in rows:
        request_id, evidence = expected[row.message_id]
        assert row.request_id == request_id, (row.message_id, row.match_evidence)
        assert row.match_evidence[-1]["detail"] == f"matched by {evidence}", row.match_evidence
    assert roll.total == 60 and roll.sent == 60 and roll.overdue == 0
