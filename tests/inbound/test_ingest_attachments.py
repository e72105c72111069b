"""Replies whose answer is in an attached letter, through the whole inbound path on a Maildir: the letter is
read (PDF text layer, Word, a scan via the OCR job) and decides the label; records files count as records;
hostile files fail alone and the poller goes on."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from inbound_helpers import BH_REPLY, World, make_settings, seed_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from agent.cli import app
from agent.config import AttachmentSettings, Settings
from agent.db.models import Attachment, Event, Message, Request, ReviewItem
from agent.inbound.ocr_job import run_ocr
from agent.inbound.poll import PollReport, poll_once
from agent.inbound.reprocess import reprocess, select_rows
from agent.mail.maildir_inbox import MaildirInbox
from support import letters
from support.letters import LETTERS, SPREADSHEET_ROWS

COVER_NOTE = "Please see the attached letter regarding your request."
PDF = ("application", "pdf")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
OCTET = ("application", "octet-stream")
KINDS = sorted(LETTERS)


def letter_mail(body: str, files: list[tuple[bytes, tuple[str, str], str]], *, n: int = 1) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Records Unit <clerk@beverlyhills.org>"
    msg["To"] = BH_REPLY
    msg["Subject"] = "RE: Public records request [RA-2025-0001]"
    msg["Date"] = format_datetime(dt.datetime(2025, 2, 11, 9, 0, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = f"<letter-{n}-{len(body)}-{len(files)}@beverlyhills.org>"
    msg.set_content(body)
    for payload, (maintype, subtype), name in files:
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def attached(kind: str, fmt: str) -> bytes:
    """The mail an agency sends for this letter kind in this format: a cover note and the letter attached
    (the spreadsheet-only reply is its own one-line note with the records as a workbook)."""
    text = LETTERS[kind][0]
    if kind == "spreadsheet_only":
        return letter_mail(text, [(letters.xlsx(SPREADSHEET_ROWS), XLSX, "records.xlsx")])
    if fmt == "pdf":
        return letter_mail(COVER_NOTE, [(letters.pdf_with_text(text), PDF, "Response Letter.pdf")])
    if fmt == "docx":
        return letter_mail(COVER_NOTE, [(letters.docx(text), DOCX, "Response Letter.docx")])
    return letter_mail(COVER_NOTE, [(letters.scanned_pdf(text), PDF, "Scan0001.pdf")])


class Env:
    def __init__(self, tmp_path: Path, sessions: sessionmaker[Session], db_url: str, **attachments: object) -> None:
        settings = make_settings(tmp_path, db_url)
        if attachments:
            settings = settings.model_copy(
                update={"attachments": AttachmentSettings(path=tmp_path / "attachments", **attachments)}  # type: ignore[arg-type]
            )
        self.settings: Settings = settings
        self.sessions = sessions
        self.world: World = seed_world(sessions)
        self.inbox = MaildirInbox(settings.inbox.maildir, account="test")
        self._n = 0

    def deliver(self, raw: bytes) -> None:
        self._n += 1
        (self.settings.inbox.maildir / "new" / f"{1700000000 + self._n}.M{self._n}P1.test").write_bytes(raw)

    def poll(self) -> PollReport:
        return poll_once(self.settings, self.sessions, self.inbox)

    def messages(self) -> list[Message]:
        with self.sessions() as s:
            return list(s.scalars(select(Message).order_by(Message.id)))

    def attachments(self) -> list[Attachment]:
        with self.sessions() as s:
            return list(s.scalars(select(Attachment).order_by(Attachment.id)))

    def request_state(self) -> str:
        with self.sessions() as s:
            request = s.get(Request, self.world.r_bh)
            assert request is not None
            return request.state

    def events(self, message_row_id: int) -> list[str]:
        with self.sessions() as s:
            return list(s.scalars(select(Event.kind).where(Event.message_row_id == message_row_id)))

    def items(self, kind: str) -> list[ReviewItem]:
        with self.sessions() as s:
            return list(s.scalars(select(ReviewItem).where(ReviewItem.kind == kind)))


@pytest.fixture
def lite(tmp_path: Path, sqlite_sessions: sessionmaker[Session], sqlite_url: str) -> Env:
    return Env(tmp_path, sqlite_sessions, sqlite_url)


def _expected(kind: str) -> tuple[str, str | None]:
    _, label, date = LETTERS[kind]
    return label, date.isoformat() if date else None


@pytest.mark.parametrize(
    ("kind", "fmt"), [(k, f) for k in KINDS for f in ("pdf", "docx") if k != "spreadsheet_only" or f == "pdf"]
)
def test_the_attached_letter_decides_the_label(lite: Env, kind: str, fmt: str) -> None:
    lite.deliver(attached(kind, fmt))
    report = lite.poll()
    assert (report.new, report.matched, report.quarantined) == (1, 1, 0)
    (row,) = lite.messages()
    label, date = _expected(kind)
    assert row.status == "processed"
    assert (row.label, row.facts["expected_date"]) == (label, date), row.rule_hits
    (file,) = lite.attachments()
    if kind == "spreadsheet_only":
        assert (file.method, file.text, file.pages) == ("records", None, 1)
        assert row.facts["records_attached"] is True
    else:
        assert file.method == ("text" if fmt == "pdf" else "docx")
        assert file.text and all(w.lower() in file.text.lower() for w in letters.KEY_WORDS[kind])
        assert file.text_chars == len(file.text) and file.read_at is not None
    if kind == "acknowledgment":
        # The PDF is the letter, not records: nothing closes.
        assert row.facts["records_attached"] is False and lite.request_state() == "acknowledged"


def test_a_pdf_sent_as_octet_stream_is_read_as_a_pdf(lite: Env) -> None:
    text = LETTERS["no_records"][0]
    lite.deliver(letter_mail(COVER_NOTE, [(letters.pdf_with_text(text), OCTET, "response")]))
    lite.poll()
    (file,) = lite.attachments()
    assert (file.content_type, file.sniffed_type, file.method) == ("application/octet-stream", "application/pdf", "text")
    assert lite.messages()[0].label == "no_records"


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "spreadsheet_only"])
def test_a_scanned_letter_waits_for_the_ocr_job_then_decides(lite: Env, kind: str) -> None:
    lite.deliver(attached(kind, "scan"))
    report = lite.poll()
    assert (report.matched, report.awaiting_ocr) == (1, 1)
    (row,) = lite.messages()
    # Waiting, visibly, and the request untouched until the letter's words are known.
    assert (row.status, row.label) == ("awaiting_ocr", None)
    assert lite.request_state() == "sent" and not lite.events(row.id)
    assert [a.method for a in lite.attachments()] == ["ocr_pending"]

    done = run_ocr(lite.settings, lite.sessions)
    assert (done.read, done.failed, done.messages, done.left) == (1, 0, 1, 0)
    (row,) = lite.messages()
    label, date = _expected(kind)
    assert row.status == "processed"
    assert (row.label, row.facts["expected_date"]) == (label, date), row.rule_hits
    (file,) = lite.attachments()
    assert file.method == "ocr" and file.text_chars > 100
    assert lite.events(row.id)  # applied now


def test_the_ocr_job_on_sqlite_and_postgresql(tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> None:
    """The paths where the databases could differ: the waiting query, the short OCR transaction, the re-read."""
    env = Env(tmp_path, sessions, db_url)
    env.deliver(attached("denial", "scan"))
    env.deliver(attached("acknowledgment", "pdf"))
    assert env.poll().awaiting_ocr == 1
    assert [m.status for m in env.messages()] == ["awaiting_ocr", "processed"]
    assert run_ocr(env.settings, env.sessions).messages == 1
    assert [(m.status, m.label) for m in env.messages()] == [("processed", "denial"), ("processed", "acknowledgment")]
    assert run_ocr(env.settings, env.sessions) == run_ocr(env.settings, env.sessions)  # nothing left: a no-op


def test_a_failed_ocr_is_recorded_and_the_message_read_from_its_body(lite: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.documents.reading import DocumentReading
    from agent.inbound import ocr_job

    lite.deliver(attached("denial", "scan"))
    lite.poll()
    monkeypatch.setattr(
        ocr_job, "read_document",
        lambda payload, **kw: DocumentReading(sniffed_type="application/pdf", method="failed", error="timeout: OCR over 180 s"),
    )
    done = run_ocr(lite.settings, lite.sessions)
    assert (done.failed, done.messages, done.left) == (1, 1, 0)
    (row,) = lite.messages()
    (file,) = lite.attachments()
    assert (file.method, file.error) == ("failed", "OCR: timeout: OCR over 180 s")
    # Never stuck: processed from the cover note, which cannot close anything, so a person reads the letter.
    assert row.status == "processed" and "attachment.unread_cover_note" in row.rule_hits
    (item,) = lite.items("attachment_failed")
    assert "Scan0001.pdf" in item.reason and item.request_id == lite.world.r_bh
    # Reprocessing does not send the failed scan back to the queue.
    reprocess(lite.sessions, run_ctx(lite), select_rows(lite.sessions))
    assert [a.method for a in lite.attachments()] == ["failed"]
    assert lite.messages()[0].status == "processed"


def run_ctx(env: Env):  # type: ignore[no-untyped-def]
    from agent.inbound.context import InboundContext

    return InboundContext.create(env.settings)


def test_with_ocr_off_a_scan_is_judged_from_its_cover_note(tmp_path: Path, sqlite_sessions: sessionmaker[Session], sqlite_url: str) -> None:
    env = Env(tmp_path, sqlite_sessions, sqlite_url, ocr=False)
    env.deliver(attached("final_release", "scan"))
    report = env.poll()
    assert report.awaiting_ocr == 0
    (row,) = env.messages()
    (file,) = env.attachments()
    assert file.method == "none" and "OCR is off" in (file.error or "")
    assert row.status == "processed" and "attachment.unread_cover_note" in row.rule_hits
    assert env.request_state() == "needs_review" and env.items("low_confidence")


def test_hostile_files_fail_alone_and_the_poller_goes_on(lite: Env) -> None:
    lite.deliver(letter_mail(COVER_NOTE, [(letters.zip_bomb(), DOCX, "letter.docx")], n=1))
    lite.deliver(letter_mail(COVER_NOTE, [(letters.malformed_pdf(), PDF, "letter.pdf")], n=2))
    lite.deliver(attached("extension_new_date", "pdf"))
    report = lite.poll()
    assert (report.new, report.matched, report.quarantined) == (3, 3, 0)
    bomb, broken, good = lite.attachments()
    assert bomb.method == "failed" and bomb.error and broken.method == "failed" and broken.error
    assert good.method == "text"
    rows = lite.messages()
    assert [r.status for r in rows] == ["processed"] * 3 and rows[2].label == "extension"
    # The letter was likely in the files that failed (the body is a cover note): a person is asked to open them.
    assert sorted(i.message_row_id for i in lite.items("attachment_failed")) == [rows[0].id, rows[1].id]
    lite.deliver(attached("acknowledgment", "docx"))
    assert lite.poll().matched == 1  # still polling


def test_reprocess_rederives_attachment_readings_and_keeps_ocr(lite: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    lite.deliver(attached("fee_deposit", "pdf"))
    lite.deliver(attached("no_records", "scan"))
    lite.poll()
    run_ocr(lite.settings, lite.sessions)
    before = {a.filename: (a.method, a.text) for a in lite.attachments()}
    assert before["Scan0001.pdf"][0] == "ocr"
    with lite.sessions.begin() as s:  # as rows read by an older version: nothing known about the files
        for a in s.scalars(select(Attachment)):
            a.method, a.text, a.text_chars, a.sniffed_type, a.read_at = None, None, 0, None, None
        for a in s.scalars(select(Attachment).where(Attachment.filename == "Scan0001.pdf")):
            a.method, a.text, a.read_at = "ocr", before["Scan0001.pdf"][1], dt.datetime.now(dt.timezone.utc)

    from agent.inbound import attachment_reading

    calls: list[bool] = []
    real = attachment_reading.read_document

    def counting(payload: bytes, **kw: object):  # type: ignore[no-untyped-def]
        calls.append(bool(kw["ocr"]))
        return real(payload, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(attachment_reading, "read_document", counting)
    result = reprocess(lite.sessions, run_ctx(lite), select_rows(lite.sessions))
    assert (result.processed, result.quarantined, result.changed) == (2, 0, [])
    after = {a.filename: (a.method, a.text) for a in lite.attachments()}
    assert after == before and calls == [False, False]  # read again from the stored bytes; OCR not repeated
    assert [m.label for m in lite.messages()] == ["fee", "no_records"]


def test_classify_reports_attachments_and_reads_the_letter(tmp_path: Path) -> None:
    raw = letter_mail(COVER_NOTE, [
        (letters.pdf_with_text(LETTERS["extension_new_date"][0]), OCTET, "letter.pdf"),
        (letters.xlsx(SPREADSHEET_ROWS), XLSX, "log.xlsx"),
        (letters.scanned_pdf("Dear Requester,\nThis page is scanned.\nRecords Unit"), PDF, "scan.pdf"),
    ])
    path = tmp_path / "x.eml"
    path.write_bytes(raw)
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "none.toml"), "classify", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["label"], data["expected_date"]) == ("extension", "2025-04-18")
    files = data["attachments"]
    assert [sorted(f) for f in files] == [["content_type", "filename", "method", "sniffed_type", "text_chars"]] * 3
    assert [(f["filename"], f["content_type"], f["sniffed_type"], f["method"]) for f in files] == [
        ("letter.pdf", "application/octet-stream", "application/pdf", "text"),
        ("log.xlsx", XLSX[0] + "/" + XLSX[1], XLSX[0] + "/" + XLSX[1], "records"),
        ("scan.pdf", "application/pdf", "application/pdf", "ocr"),  # OCR inline for one file by hand
    ]
    assert files[0]["text_chars"] > 200 and files[1]["text_chars"] == 0 and files[2]["text_chars"] > 10


async def test_the_daemon_shows_a_reply_awaiting_ocr_and_one_ocr_run_settles_it(tmp_path: Path, sqlite_url: str) -> None:
    """Through the daemon's own jobs and the operator commands: poll, the reply waits visibly, one OCR run."""
    from agent.config import load_settings
    from agent.daemon.run import build_jobs
    from agent.db import migrate
    from support.configs import write_config

    config = write_config(
        tmp_path, sqlite_url, attachments={"path": "attachments"}, archive={"path": "mailbox"},
        inbox={"backend": "maildir", "maildir": "inbox"},
    )
    settings = load_settings(config)
    jobs = build_jobs(settings, worker_id="w1")
    migrate.upgrade(jobs.engine)
    asked: list[str] = []
    jobs.nudge = asked.append
    try:
        world = seed_world(jobs.sessions)
        for sub in ("new", "cur", "tmp"):
            (tmp_path / "inbox" / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / "inbox" / "new" / "1.scan").write_bytes(attached("extension_new_date", "scan"))
        polled = await jobs.poll()
        assert polled is not None and polled["awaiting_ocr"] == 1 and asked == ["ocr"]  # the OCR job brought forward

        def cli(*args: str):  # type: ignore[no-untyped-def]
            return CliRunner().invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200"})

        thread = cli("thread", "RA-2025-0001")
        assert thread.exit_code == 0 and "awaiting OCR" in thread.output and "waiting for OCR" in thread.output
        health = json.loads(cli("status", "--json").stdout)
        assert health["queues"]["awaiting_ocr"] == 1
        with jobs.sessions() as s:
            row_id = s.scalars(select(Message.id)).one()
        explained = json.loads(cli("explain", str(row_id), "--json").stdout)
        assert (explained["status"], explained["label"]) == ("awaiting_ocr", None)

        done = await jobs.ocr()
        assert done is not None and (done["read"], done["messages"], done["left"]) == (1, 1, 0)
        with jobs.sessions() as s:
            row = s.get(Message, row_id)
            request = s.get(Request, world.r_bh)
            assert row is not None and request is not None
            assert (row.status, row.label, row.facts["expected_date"]) == ("processed", "extension", "2025-04-18")
            assert request.state == "extended" and request.extended_due == dt.date(2025, 4, 18)
        assert json.loads(cli("status", "--json").stdout)["queues"]["awaiting_ocr"] == 0
        assert "awaiting OCR" not in cli("thread", "RA-2025-0001").output
        assert jobs.counters["ocrs"] == 1
    finally:
        jobs.close()
        jobs.engine.dispose()


@pytest.mark.reading_worker
def test_letters_are_read_the_same_with_the_reading_worker(lite: Env) -> None:
    """`[limits] worker = true`: parse and understand run in the budgeted worker, each file in its own child."""
    from agent.config import LimitsSettings
    from agent.inbound import worker

    lite.settings = lite.settings.model_copy(update={"limits": LimitsSettings(worker=True)})
    lite.deliver(attached("acknowledgment", "pdf"))
    lite.deliver(letter_mail(COVER_NOTE, [(letters.zip_bomb(), DOCX, "letter.docx")], n=7))
    report = lite.poll()
    assert (report.matched, report.quarantined) == (2, 0)
    ack, bomb = lite.messages()
    assert (ack.status, ack.label) == ("processed", "acknowledgment")
    assert bomb.status == "processed" and "attachment.letter_unread" in bomb.rule_hits
    assert [a.method for a in lite.attachments()] == ["text", "failed"]
    assert worker._current is not None and worker._current.starts >= 1  # really read in the worker


def test_the_link_inside_the_attached_letter_is_a_fact_of_the_reply(lite: Env) -> None:
    """The Beverly Hills seed: "the records link is in the attached letter"; the letter's link is found there."""
    lite.deliver(letter_mail(letters.SEED_COVER_NOTE, [(letters.pdf_with_text(letters.SEED_LINK_LETTER), PDF, "Letter.pdf")]))
    lite.poll()
    (row,) = lite.messages()
    assert letters.SEED_LINK_URL in row.facts["links"]
    assert "CRM-25-191" in row.facts["tracking_numbers"] and row.label == "batch"
