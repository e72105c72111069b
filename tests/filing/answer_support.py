"""A campaign with the answer corpus filed in the database: our ALPR letters, the agencies' replies archived as mail."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.orm import Session

from agent.config import Settings
from agent.db.models import Attachment, Campaign, Message
from agent.filing.campaigns import agencies_by_name, campaign_requests, create_campaign
from agent.mail.archive import Archive
from filing.answer_corpus import CORPUS

FILED = dt.datetime(2025, 2, 11, 18, 0, tzinfo=dt.timezone.utc)


def raw_mail(sender: str, subject: str, body: str, message_id: str, when: dt.datetime) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "requests@example.org"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["Date"] = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    mail.set_content(body)
    return mail.as_bytes()


def add_reply(session: Session, archive: Archive, request_id: int, sender: str, body: str, *, label: str,
              when: dt.datetime, key: str, attachments: tuple[str, ...] = ()) -> Message:
    message_id = f"<{key}@agency.example.gov>"
    stored = archive.add(raw_mail(sender, "Re: your records request", body, message_id, when))
    row = Message(direction="in", dedupe_key=message_id, message_id=message_id, sha256=stored.sha256,
                  archive_key=stored.key, size=stored.size, request_id=request_id, status="processed",
                  from_addr=sender, sent_date=when, received_at=when, kind="reply", label=label,
                  cleaned_text=body)
    session.add(row)
    session.flush()
    for index, text in enumerate(attachments):
        session.add(Attachment(message_row_id=row.id, filename=f"response-{index}.pdf", content_type="application/pdf",
                               method="text", text=text, text_chars=len(text)))
    session.flush()
    return row


def file_corpus(session: Session, settings: Settings, archive_root: Path) -> Campaign:
    """The ALPR letter (2019-2020) to the corpus's twenty agencies, and their replies in order."""
    agencies, missing = agencies_by_name(session, [a.name for a in CORPUS])
    assert not missing, missing
    campaign = create_campaign(session, template="alpr", agencies=agencies, variables={"years": "2019-2020"},
                               settings=settings, now=FILED, name="CA ALPR")
    archive = Archive(archive_root)
    by_agency = {r.agency.name: r for r in campaign_requests(session, campaign)}
    for a_index, agency in enumerate(CORPUS):
        request = by_agency[agency.name]
        for l_index, letter in enumerate(agency.letters):
            when = FILED + dt.timedelta(days=10 + l_index, hours=a_index)
            add_reply(session, archive, request.id, request.agency.emails[0], letter.body, label=letter.label,
                      when=when, key=f"a{a_index}-l{l_index}", attachments=letter.attachments)
    return campaign
