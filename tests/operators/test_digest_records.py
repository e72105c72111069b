"""The digest's "records received" lists records: attached records and files fetched from links this week — not the
agency's letter, not portal, sign-in or tracking links, and never a capability URL."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from agent.config import RulesSettings, Settings
from agent.db.models import Attachment, FetchedFile, Message
from agent.digest.build import build_digest
from agent.digest.render import render_html, render_text
from operators.seed import seed

REPO = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2025, 3, 10)
SINCE = dt.date(2025, 3, 3)
SETTINGS = Settings(rules=RulesSettings(path=REPO / "rules"))
UTC = dt.timezone.utc
TOKEN = "s/CAPABILITY-9d1e"


def _link(message: int, request: int | None, url: str, **kw: object) -> FetchedFile:
    host = url.split("/")[2]
    return FetchedFile(message_row_id=message, request_id=request, url=url,
                       url_sha256=hashlib.sha256(url.encode()).hexdigest(), host=host, **kw)  # type: ignore[arg-type]


def _week_with_records(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        s = seed(session, MONDAY)
        batch = session.get(Message, s.messages["r2-batch"])
        assert batch is not None
        for a in batch.attachments:
            a.method = "records"
        # The agency's cover letter, read as text: it is in "new replies", not a record.
        session.add(Attachment(message_row_id=batch.id, filename="cover_letter.pdf", content_type="application/pdf",
                               size=20_000, method="text", text="Attached are the records."))
        # A bounce brings back our own letter: not a record either.
        session.add(Attachment(message_row_id=s.messages["r4-bounce"], filename="original.eml", size=900))
        ext, final = s.messages["r1-ext"], s.messages["r5-final"]
        r1, r2, r5 = (s.requests[f"RA-2025-000{n}"] for n in (1, 2, 5))
        session.add_all([
            # Fetched this week from a link in this week's reply: under that reply.
            _link(ext, r1, f"https://bhpd.app.box.com/{TOKEN}", link_kind="file_share", state="fetched",
                  filename="bodycam.pdf", size=2_048_000, fetched_at=dt.datetime(2025, 3, 5, 20, tzinfo=UTC)),
            # Fetched this week from a reply of weeks ago: its own entry, dated by the fetch.
            _link(final, r5, "https://bhpd.sharefile.com/d-77", link_kind="file_share", state="fetched",
                  filename="release_1.zip", size=5_000, fetched_at=dt.datetime(2025, 3, 6, 20, tzinfo=UTC)),
            # A portal page that wants a login, and a file fetched last week: neither is this week's record.
            _link(batch.id, r2, "https://dhs.govqa.us/login?session=SESSION-5", link_kind="records_portal",
                  state="needs_login"),
            _link(batch.id, r2, "https://dhs.example.gov/old.pdf", link_kind="file_share", state="fetched",
                  filename="old.pdf", size=10, fetched_at=dt.datetime(2025, 2, 25, 20, tzinfo=UTC)),
        ])


def test_records_received_lists_records_not_links(sessions: sessionmaker[Session]) -> None:
    _week_with_records(sessions)
    with sessions() as session:
        d = build_digest(session, since=SINCE, until=MONDAY, settings=SETTINGS)
    assert [(r.reference, r.received, r.files, r.fetched, r.links) for r in d.received] == [
        ("RA-2025-0001", dt.date(2025, 3, 4), (), (("bodycam.pdf", 2_048_000, "bhpd.app.box.com"),), ()),
        ("RA-2025-0005", dt.date(2025, 3, 6), (), (("release_1.zip", 5_000, "bhpd.sharefile.com"),), ()),
        ("RA-2025-0002", dt.date(2025, 3, 7), (("incident_reports.pdf", 482_113), ("policy_300.pdf", 90_500)), (), ()),
    ]


def test_rendered_digest_names_files_and_hosts_only(lite_sessions: sessionmaker[Session]) -> None:
    _week_with_records(lite_sessions)
    with lite_sessions() as session:
        d = build_digest(session, since=SINCE, until=MONDAY, settings=SETTINGS)
    text, html = render_text(d, REPO / "rules"), render_html(d, REPO / "rules")
    section = text[text.index("RECORDS RECEIVED"):text.index("CAMPAIGN PROGRESS")]
    assert "    - bodycam.pdf (2.0 MB, fetched from bhpd.app.box.com)" in section
    assert "    - incident_reports.pdf (471 KB)" in section and "release_1.zip" in section
    for absent in ("cover_letter.pdf", "old.pdf", "govqa", "https://"):
        assert absent not in section, absent
    for out in (text, html):
        assert TOKEN not in out and "SESSION-5" not in out and "dhs.example.gov/records/123" not in out
    assert "bodycam.pdf" in html and "from bhpd.app.box.com" in html and "<a " not in html
