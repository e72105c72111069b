"""The whole inbound path on a local Maildir, on SQLite and PostgreSQL: record, dedupe, match, quarantine, recover."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from inbound_helpers import BH_REPLY, EML, World, make_settings, mail, seed_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Attachment, MailboxState, Message, Request, ReviewItem, TrackingNumber
from agent.inbound.context import InboundContext
from agent.inbound.ingest import record_batch
from agent.inbound.poll import poll_once
from agent.inbound.reprocess import reprocess, select_rows
from agent.mail.archive import Archive
from agent.mail.inbox import Fetched
from agent.mail.maildir_inbox import MaildirInbox


class Env:
    def __init__(self, tmp_path: Path, sessions: sessionmaker[Session], db_url: str) -> None:
        self.settings = make_settings(tmp_path, db_url)
        self.sessions = sessions
        self.inbox = MaildirInbox(self.settings.inbox.maildir, account="test")
        self._n = 0

    def deliver(self, raw: bytes) -> None:
        self._n += 1
        path = self.settings.inbox.maildir / "new" / f"{1700000000 + self._n}.M{self._n}P1.test"
        path.write_bytes(raw)

    def poll(self):  # type: ignore[no-untyped-def]
        return poll_once(self.settings, self.sessions, self.inbox)

    def rows(self) -> list[Message]:
        with self.sessions() as s:
            return list(s.scalars(select(Message).order_by(Message.id)))


@pytest.fixture
def env(tmp_path: Path, sessions: sessionmaker[Session], db_url: str, world: World) -> Env:
    """On SQLite and PostgreSQL: the paths where the two databases could behave differently."""
    return Env(tmp_path, sessions, db_url)


@pytest.fixture
def lite(tmp_path: Path, sqlite_sessions: sessionmaker[Session], sqlite_url: str) -> Env:
    """SQLite only: logic that does not depend on the database."""
    env = Env(tmp_path, sqlite_sessions, sqlite_url)
    env.world = seed_world(sqlite_sessions)  # type: ignore[attr-defined]
    return env


def test_new_mail_is_archived_recorded_matched_and_flagged(env: Env, world: World) -> None:
    raw = (EML / "portal_ack.eml").read_bytes()
    env.deliver(raw)
    report = env.poll()
    assert (report.new, report.matched, report.orphaned, report.quarantined) == (1, 1, 0, 0)
    (row,) = env.rows()
    assert row.request_id == world.r_bh and row.status == "processed" and row.processed_at is not None
    assert Archive(env.settings.archive_path).get(row.archive_key) == raw  # exact bytes kept
    assert row.match_evidence[-1] == {"kind": "decision", "request_id": world.r_bh, "detail": "matched by reply_address"}
    # The Maildir file is flagged as recorded, not rewritten; a second pass finds nothing.
    (cur,) = (env.settings.inbox.maildir / "cur").iterdir()
    assert cur.name.endswith(":2,S") and cur.read_bytes() == raw
    assert env.poll().new == 0


def test_the_same_message_delivered_twice_is_recorded_once(env: Env) -> None:
    raw = mail(message_id="<dup-1@beverlyhills.org>")
    env.deliver(raw)
    env.deliver(raw.replace(b"Subject:", b"Received: from relay2\nSubject:", 1))  # redelivered via another relay
    first = env.poll()
    assert (first.new, first.duplicates) == (1, 1)
    env.deliver(raw)  # weeks later, again
    assert (env.poll().new, len(env.rows())) == (0, 1)


def test_a_reused_message_id_with_different_content_is_not_dropped(lite: Env) -> None:
    # Some portals stamp every notice with the same Message-ID; a second, different letter must survive.
    lite.deliver(mail(message_id="<notice@portal.example>", subject="Acknowledgment", body="Received."))
    lite.deliver(mail(message_id="<notice@portal.example>", subject="Extension", body="We need 14 more days."))
    assert lite.poll().new == 2
    lite.deliver(mail(message_id="<notice@portal.example>", subject="Extension", body="We need 14 more days."))
    report = lite.poll()
    assert (report.new, report.duplicates) == (0, 1)
    keys = [r.dedupe_key for r in lite.rows()]
    assert keys[0] == "<notice@portal.example>" and keys[1].startswith("<notice@portal.example>#")


def test_messages_without_message_id_dedupe_by_hash(lite: Env) -> None:
    raw = (EML / "no_message_id.eml").read_bytes()
    lite.deliver(raw)
    lite.deliver(raw)
    report = lite.poll()
    assert (report.new, report.duplicates) == (1, 1)
    (row,) = lite.rows()
    assert row.dedupe_key.startswith("sha256:") and row.message_id is None


def test_unparseable_mail_is_quarantined_and_kept(env: Env) -> None:
    garbage = (EML / "garbage.bin").read_bytes()
    env.deliver(garbage)
    report = env.poll()
    assert (report.new, report.quarantined) == (1, 1)
    (row,) = env.rows()
    assert row.status == "quarantined" and "no headers" in (row.error or "")
    assert Archive(env.settings.archive_path).get(row.archive_key) == garbage
    with env.sessions() as s:
        item = s.scalar(select(ReviewItem).where(ReviewItem.message_row_id == row.id))
        assert item is not None and item.kind == "quarantined"


def test_rows_recorded_but_not_processed_are_finished_next_pass(env: Env, world: World) -> None:
    # As after a crash between the checkpoint commit and processing.
    ctx = InboundContext.create(env.settings)
    recorded = record_batch(env.sessions, ctx.archive, account="test", folder=env.inbox.folder,
                            batch=[Fetched(raw=mail(to=BH_REPLY))])
    assert [r.status for r in env.rows()] == ["new"]
    report = env.poll()
    assert (report.recovered, report.matched, report.new) == (1, 1, 0)
    (row,) = env.rows()
    assert row.id == recorded.new_rows[0][0] and row.status == "processed" and row.request_id == world.r_bh


def test_a_message_that_keeps_killing_the_agent_is_quarantined(lite: Env) -> None:
    ctx = InboundContext.create(lite.settings)
    record_batch(lite.sessions, ctx.archive, account="test", folder=lite.inbox.folder, batch=[Fetched(raw=mail())])
    with lite.sessions.begin() as s:
        # As left behind by two runs that died while processing it.
        s.scalar(select(Message)).error = "processing interrupted 2 time(s); retrying"  # type: ignore[union-attr]
    report = lite.poll()
    assert (report.quarantined, report.recovered) == (1, 0)
    (row,) = lite.rows()
    assert row.status == "quarantined" and "may crash the agent" in (row.error or "")


def test_tracking_numbers_are_learned_then_used(lite: Env) -> None:
    lite.deliver((EML / "portal_ack.eml").read_bytes())
    lite.poll()
    with lite.sessions() as s:
        learned = set(s.scalars(select(TrackingNumber.value).where(TrackingNumber.request_id == lite.world.r_bh)))
    assert learned == {"CRM-25-191", "CRM-XNWk7HB5J"}
    # A second open Beverly Hills request: the sender no longer decides, the learned number does.
    with lite.sessions.begin() as s:
        s.add(Request(reference="RA-2025-0042", agency_id=lite.world.bh, jurisdiction="CA", state="sent"))
    lite.deliver(mail(sender="noreply@beverlyhills.org", subject="Request CRM-25-191 update", body="In progress."))
    lite.poll()
    assert lite.rows()[-1].request_id == lite.world.r_bh
    with lite.sessions() as s:
        number = s.scalar(select(TrackingNumber).where(TrackingNumber.value == "CRM-25-191"))
        assert number is not None and number.last_seen >= number.first_seen


def test_spoofed_tracking_number_goes_to_review(env: Env, world: World) -> None:
    env.deliver((EML / "portal_ack.eml").read_bytes())
    env.poll()
    env.deliver(mail(sender="records@beverlyhi11s.example", subject="Your records: CRM-25-191", body="Download here"))
    report = env.poll()
    assert report.orphaned == 1
    row = env.rows()[-1]
    assert row.status == "orphan" and row.request_id is None
    with env.sessions() as s:
        item = s.scalar(select(ReviewItem).where(ReviewItem.message_row_id == row.id))
        assert item is not None and item.kind == "spoof"
        assert item.suggestions[0]["request_id"] == world.r_bh
        # Nothing was learned from the forger.
        assert s.scalar(select(func.count()).select_from(TrackingNumber)) == 2


def test_bounce_and_out_of_office_attach_but_are_not_answers(lite: Env) -> None:
    lite.deliver((EML / "bounce_dsn.eml").read_bytes())
    lite.deliver((EML / "ooo.eml").read_bytes())
    report = lite.poll()
    assert report.matched == 2
    bounce, ooo = lite.rows()
    assert (bounce.kind, bounce.request_id, bounce.label) == ("bounce", lite.world.r_bh, "bounce")
    assert (ooo.kind, ooo.request_id, ooo.label) == ("auto_reply", lite.world.r_bh, "auto_reply")
    with lite.sessions() as s:
        request = s.get(Request, lite.world.r_bh)
        assert request is not None and request.last_reply_at is None  # neither counts as a response


def test_attachments_are_stored_by_hash_and_oversized_flagged(tmp_path: Path, sqlite_sessions, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    from agent.config import AttachmentSettings
    from agent.mail.attachments import AttachmentStore

    seed_world(sqlite_sessions)
    env = Env(tmp_path, sqlite_sessions, sqlite_url)
    env.settings = env.settings.model_copy(update={"attachments": AttachmentSettings(path=tmp_path / "att", max_bytes=20)})
    env.deliver((EML / "winmail.eml").read_bytes())  # 44 bytes: over the cap
    env.deliver((EML / "missing_boundary.eml").read_bytes())  # 12 bytes: under
    env.poll()
    with env.sessions() as s:
        atts = {a.filename: a for a in s.scalars(select(Attachment))}
    assert atts["winmail.dat"].oversized and atts["winmail.dat"].stored_path is None
    letter = atts["letter.pdf"]
    assert not letter.oversized and letter.stored_path and Path(letter.stored_path).name == letter.sha256
    assert not Path(letter.stored_path).is_absolute()  # relative to the store: a moved workspace still finds it
    assert AttachmentStore(tmp_path / "att").read(letter.stored_path).startswith(b"%PDF")


def test_reprocess_rederives_without_duplicating(lite: Env) -> None:
    for name in ("portal_ack.eml", "garbage.bin", "html_only.eml"):
        lite.deliver((EML / name).read_bytes())
    lite.poll()
    before = [(r.id, r.status, r.request_id) for r in lite.rows()]
    ctx = InboundContext.create(lite.settings)
    report = reprocess(lite.sessions, ctx, select_rows(lite.sessions))
    assert report.total == 3 and report.quarantined == 1
    assert [(r.id, r.status, r.request_id) for r in lite.rows()] == before
    with lite.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.kind == "quarantined")) == 1
        assert s.scalar(select(func.count()).select_from(MailboxState)) == 1


def test_maildir_checkpoint_survives_reopen(lite: Env) -> None:
    lite.deliver(mail())
    lite.poll()
    reopened = MaildirInbox(lite.settings.inbox.maildir, account="test")
    assert list(reopened.batches(None)) == []  # type: ignore[arg-type]
    assert not os.listdir(lite.settings.inbox.maildir / "new")
