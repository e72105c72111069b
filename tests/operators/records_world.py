"""Requests that received files: replies with attachments through the real poller, then what the reader and the
link fetcher would have written (Attachment reading columns, FetchedFile rows with their bytes in the store)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Attachment, FetchedFile, Message
from agent.documents.sniff import PDF, XLSX
from agent.inbound.poll import poll_once
from agent.mail.attachments import AttachmentStore
from agent.mail.maildir_inbox import MaildirInbox
from inbound.inbound_helpers import BH_REPLY, DHS_REPLY, World, make_settings, seed_world

UTC = dt.timezone.utc
SECRET_URL = "https://bhpd.app.box.com/s/capability-TOKEN-4f9a2c"
LOGIN_URL = "https://bhpd.govqa.us/WEBAPP/_rs/RequestLogin.aspx?sSessionID=SESSION-77"
LETTER = b"%PDF-1.4\n1 0 obj the letter: records released, see the link\n%%EOF"
OTHER_LETTER = b"%PDF-1.4\n1 0 obj a different letter under the same name\n%%EOF"
SHEET = b"PK\x03\x04 xl/workbook.xml incident log rows"
CSV = b"date,incident\n2025-01-02,stop\n"
BODYCAM = b"%PDF-1.7\nbodycam index\n%%EOF"


@dataclass(frozen=True)
class RecordsWorld:
    world: World
    store: AttachmentStore
    files: dict[str, bytes]  # what each name should hold once exported
    first_reply: str  # Message-ID of the Beverly Hills reply with the letter


def _reply(to: str, sender: str, subject: str, message_id: str, day: int, files: list[tuple[str, str, bytes]]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(dt.datetime(2025, 2, day, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = message_id
    msg.set_content("Please see the attached.")
    for name, ctype, payload in files:
        main, sub = ctype.split("/")
        msg.add_attachment(payload, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()


def build(tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> RecordsWorld:
    world = seed_world(sessions)
    settings = make_settings(tmp_path, db_url)
    inbox_dir = settings.inbox.maildir
    for sub in ("new", "cur", "tmp"):
        (inbox_dir / sub).mkdir(parents=True, exist_ok=True)
    mails = [
        _reply(BH_REPLY, "clerk@beverlyhills.org", "Records released", "<bh-1@beverlyhills.org>", 11,
               [("letter.pdf", "application/octet-stream", LETTER), ("incident_log.xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", SHEET)]),
        # The same spreadsheet again under another name, and another letter under the first one's name.
        _reply(BH_REPLY, "clerk@beverlyhills.org", "Second batch", "<bh-2@beverlyhills.org>", 12,
               [("incident log (copy).xlsx", "application/octet-stream", SHEET),
                ("letter.pdf", "application/pdf", OTHER_LETTER)]),
        _reply(DHS_REPLY, "records@cityofdhs.org", "Your request", "<dhs-1@cityofdhs.org>", 13,
               [("=HYPERLINK(1).csv", "text/csv", CSV)]),
    ]
    for n, raw in enumerate(mails, 1):
        (inbox_dir / "new" / f"{1700000000 + n}.M{n}P1.test").write_bytes(raw)
    poll_once(settings, sessions, MaildirInbox(inbox_dir, account="test"))
    store = AttachmentStore(settings.attachments.path)
    with sessions.begin() as s:
        atts = {(a.message.message_id, a.filename): a for a in s.scalars(select(Attachment))}
        assert len(atts) == 5, sorted(atts)
        first = atts[("<bh-1@beverlyhills.org>", "letter.pdf")]
        # What the reader writes: the letter had words (so it is the agency's letter), the sheet is records.
        first.method, first.sniffed_type, first.pages, first.text = "text", PDF, 2, "Records released, see the link"
        sheet = atts[("<bh-1@beverlyhills.org>", "incident_log.xlsx")]
        sheet.method, sheet.sniffed_type, sheet.pages = "records", XLSX, 3
        # The second reply's rows unread (NULL columns), as rows written before this version are.
        for (message_id, _), att in atts.items():
            if message_id == "<bh-2@beverlyhills.org>":
                att.method = att.sniffed_type = att.text = att.pages = att.error = att.read_at = None
        bh1 = s.scalars(select(Message).where(Message.message_id == "<bh-1@beverlyhills.org>")).one()
        assert bh1.request_id == world.r_bh
        digest, _ = store.put(BODYCAM)
        fetched_at = dt.datetime(2025, 2, 11, 10, 30, tzinfo=UTC)
        s.add_all([
            FetchedFile(request_id=world.r_bh, message_row_id=bh1.id, attachment_id=first.id, url=SECRET_URL,
                        url_sha256=hashlib.sha256(SECRET_URL.encode()).hexdigest(), host="bhpd.app.box.com",
                        link_kind="file_share", state="fetched", sha256=digest, stored_path=store.key_for(digest),
                        filename="bodycam_index.pdf", content_type="application/octet-stream", sniffed_type=PDF,
                        size=len(BODYCAM), pages=7, fetched_at=fetched_at),
            FetchedFile(request_id=world.r_bh, message_row_id=bh1.id, url=LOGIN_URL,
                        url_sha256=hashlib.sha256(LOGIN_URL.encode()).hexdigest(), host="bhpd.govqa.us",
                        link_kind="records_portal", state="needs_login"),
            FetchedFile(request_id=world.r_bh, message_row_id=bh1.id, url="https://track.example/u?x=1",
                        url_sha256="c" * 64, host="track.example", link_kind="unsubscribe", state="skipped"),
            # Fetched once, but the store has since lost the bytes.
            FetchedFile(request_id=world.r_bh, message_row_id=bh1.id, url="https://bhpd.app.box.com/s/gone",
                        url_sha256="d" * 64, host="bhpd.app.box.com", link_kind="file_share", state="fetched",
                        sha256="e" * 64, stored_path=store.key_for("e" * 64), filename="lost.pdf",
                        content_type="application/pdf", size=99, fetched_at=fetched_at),
        ])
    files = {"letter.pdf": LETTER, "letter (2).pdf": OTHER_LETTER, "incident_log.xlsx": SHEET,
             "bodycam_index.pdf": BODYCAM, "_=HYPERLINK(1).csv": CSV}
    return RecordsWorld(world, store, files, "<bh-1@beverlyhills.org>")
