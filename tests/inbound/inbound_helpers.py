"""Inbound test helpers: settings on temp paths, a small world of agencies and requests, mail builders."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from agent.config import (
    ArchiveSettings,
    AttachmentSettings,
    DatabaseSettings,
    ImapSettings,
    InboxSettings,
    RulesSettings,
    Secret,
    Settings,
)
from agent.db.models import Agency, Request

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
EML = Path(__file__).parent / "eml"
PASSWORD_ENV = "AGENT_TEST_IMAP_PASSWORD"
_counter = itertools.count(1)


def make_settings(tmp_path: Path, db_url: str, *, inbox: InboxSettings | None = None) -> Settings:
    return Settings(
        database=DatabaseSettings(url=db_url),
        archive=ArchiveSettings(path=tmp_path / "mailbox"),
        attachments=AttachmentSettings(path=tmp_path / "attachments"),
        inbox=inbox or InboxSettings(backend="maildir", maildir=tmp_path / "inbox"),
        rules=RulesSettings(path=REPO_RULES),
    )


def imap_settings(account: object, **overrides: object) -> InboxSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": account.port,  # type: ignore[attr-defined]
        "security": "plain",
        "username": account.user,  # type: ignore[attr-defined]
        "password": Secret(env=PASSWORD_ENV),
        "batch_size": 50,
        "timeout_seconds": 10,
    }
    values.update(overrides)
    return InboxSettings(backend="imap", account="test", imap=ImapSettings(**values))  # type: ignore[arg-type]


@dataclass(frozen=True)
class World:
    """Ids of the seeded rows, named after what each one is for."""

    bh: int  # Beverly Hills PD: GovQA portal, one open request
    dhs: int  # Desert Hot Springs: one open request
    la: int  # an agency with two open requests (sender evidence alone is not enough)
    r_bh: int
    r_dhs: int
    r_la1: int
    r_la2: int


BH_REPLY = "records+ra-2025-0001-ab12@example.org"
DHS_REPLY = "records+ra-2025-0002-cd34@example.org"
BH_MSGID = "<req-0001@example.org>"
DHS_MSGID = "<req-0002@example.org>"


def seed_world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as s:
        bh = Agency(name="Beverly Hills Police Department", jurisdiction="CA", emails=[], domains=["beverlyhills.org"],
                    portal="govqa", tracking_patterns=[r"\b(CRM-\d{2}-\d+)\b"])
        dhs = Agency(name="Desert Hot Springs Police Department", jurisdiction="CA", emails=["records@cityofdhs.org"],
                     domains=["cityofdhs.org"])
        la = Agency(name="Los Angeles Police Department", jurisdiction="CA", emails=[], domains=["la.example.gov"])
        s.add_all([bh, dhs, la])
        s.flush()
        r_bh = Request(reference="RA-2025-0001", agency_id=bh.id, jurisdiction="CA", state="sent",
                       reply_address=BH_REPLY, message_id=BH_MSGID, subject="ALPR Audits")
        r_dhs = Request(reference="RA-2025-0002", agency_id=dhs.id, jurisdiction="CA", state="sent",
                        reply_address=DHS_REPLY, message_id=DHS_MSGID, subject="California ALPR")
        r_la1 = Request(reference="RA-2025-0003", agency_id=la.id, jurisdiction="CA", state="sent")
        r_la2 = Request(reference="RA-2025-0004", agency_id=la.id, jurisdiction="CA", state="acknowledged")
        s.add_all([r_bh, r_dhs, r_la1, r_la2])
        s.flush()
        return World(bh.id, dhs.id, la.id, r_bh.id, r_dhs.id, r_la1.id, r_la2.id)


def mail(
    *,
    sender: str = "clerk@beverlyhills.org",
    to: str = "records@example.org",
    subject: str = "Your records request",
    body: str = "Thank you for your request.",
    message_id: str | None = "auto",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime(2025, 2, 11, 9, 0, tzinfo=dt.timezone.utc))
    if message_id == "auto":
        message_id = f"<m{next(_counter)}.{id(msg)}@test.example>"
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()
