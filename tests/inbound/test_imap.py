"""Against a real Dovecot: evidence of every kind, PEEK, checkpoints, dedupe, UIDVALIDITY, IDLE, restarts, TLS."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from inbound_helpers import BH_REPLY, DHS_MSGID, EML, World, imap_settings, make_settings, mail, seed_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import MailboxState, Message, ReviewItem, TrackingNumber
from agent.inbound.poll import poll_once, watch
from agent.mail.imap_inbox import ImapInbox
from agent.mail.inbox import Checkpoint, InboxError, open_inbox

pytestmark = pytest.mark.dovecot


class ImapEnv:
    def __init__(self, tmp_path: Path, sessions: sessionmaker[Session], db_url: str, account, **imap: object) -> None:  # type: ignore[no-untyped-def]
        self.account = account
        self.sessions = sessions
        self.settings = make_settings(tmp_path, db_url, inbox=imap_settings(account, **imap))
        self.world = seed_world(sessions)
        self.inbox = open_inbox(self.settings)

    def poll(self):  # type: ignore[no-untyped-def]
        return poll_once(self.settings, self.sessions, self.inbox)

    def rows(self) -> list[Message]:
        with self.sessions() as s:
            return list(s.scalars(select(Message).order_by(Message.id)))

    def checkpoint(self) -> MailboxState | None:
        with self.sessions() as s:
            return s.scalar(select(MailboxState))


@pytest.fixture
def imap_env(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> Iterator[ImapEnv]:  # type: ignore[no-untyped-def]
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account)
    yield env
    env.inbox.close()


def test_each_kind_of_evidence_over_imap(tmp_path: Path, sessions, db_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    env = ImapEnv(tmp_path, sessions, db_url, imap_account)
    w: World = env.world
    with sessions.begin() as s:
        s.add(TrackingNumber(request_id=w.r_la1, agency_id=w.la, value="LA-2025-004711"))
    cases = {
        "reply_address": (mail(sender="someone@gmail.example", to=BH_REPLY, subject="hello"), w.r_bh),
        "thread": (mail(sender="x@y.example", headers={"In-Reply-To": DHS_MSGID}), w.r_dhs),
        "tracking_number": (mail(sender="clerk@la.example.gov", subject="Update on LA-2025-004711"), w.r_la1),
        "reference": (mail(sender="clerk@la.example.gov", subject="RE: [RA-2025-0004] records"), w.r_la2),
        "sender": (mail(sender="records@cityofdhs.org", subject="Your request", body="Working on it."), w.r_dhs),
    }
    for raw, _ in cases.values():
        imap_account.append(raw)
    report = env.poll()
    assert (report.new, report.matched, report.orphaned, report.quarantined) == (5, 5, 0, 0)
    for (kind, (_, expected)), row in zip(cases.items(), env.rows()):
        assert row.request_id == expected, kind
        assert row.match_evidence[-1]["detail"] == f"matched by {kind}"
        assert (row.account, row.folder, row.uid) == ("test", "INBOX", row.uid) and row.uid and row.uidvalidity
    # BODY.PEEK[]: the people sharing the mailbox still see the mail as unread.
    client = imap_account.client()
    try:
        flags = client.get_flags(client.search(["ALL"]))
    finally:
        client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())
    env.inbox.close()


def test_checkpoint_and_the_n_star_quirk(imap_env: ImapEnv) -> None:
    for i in range(3):
        imap_env.account.append(mail(subject=f"m{i}"))
    assert imap_env.poll().new == 3
    state = imap_env.checkpoint()
    assert state is not None and state.last_uid == 3 and state.uidvalidity == imap_env.inbox.uidvalidity
    # "UID 4:*" answers UID 3 when nothing is newer; it must not come back as a duplicate.
    again = imap_env.poll()
    assert (again.new, again.duplicates) == (0, 0)
    imap_env.account.append(mail(subject="m3"))
    assert imap_env.poll().new == 1


def test_small_batches_cover_everything(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, batch_size=4)
    imap_account.append_many([mail(subject=f"b{i}") for i in range(11)])
    assert env.poll().new == 11
    assert [r.uid for r in env.rows()] == list(range(1, 12))
    env.inbox.close()


def test_batches_are_bounded_by_bytes_too(imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    from inbound_helpers import imap_settings

    imap_account.append_many([mail(subject=f"s{i}", body="x" * 3000) for i in range(5)])
    inbox = ImapInbox(imap_settings(imap_account).imap, max_batch_bytes=7000)
    try:
        sizes = [len(batch) for batch in inbox.batches(Checkpoint())]
    finally:
        inbox.close()
    assert sizes == [2, 2, 1]  # two ~3.3 KB messages per FETCH, never more


def test_same_message_delivered_twice(imap_env: ImapEnv) -> None:
    raw = mail(message_id="<twice@beverlyhills.org>")
    imap_env.account.append(raw)
    imap_env.account.append(raw)
    report = imap_env.poll()
    assert (report.new, report.duplicates) == (1, 1)
    imap_env.account.append(raw)
    assert (imap_env.poll().duplicates, len(imap_env.rows())) == (1, 1)
    assert imap_env.checkpoint().last_uid == 3  # type: ignore[union-attr]


def test_uidvalidity_change_resyncs_without_reprocessing(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    client = imap_account.client(folder=None)
    client.create_folder("Records")
    client.logout()
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, folder="Records")
    first = [mail(subject="one"), mail(subject="two")]
    for raw in first:
        imap_account.append(raw, folder="Records")
    assert env.poll().new == 2
    old = env.checkpoint().uidvalidity  # type: ignore[union-attr]
    env.inbox.close()

    time.sleep(1.1)  # UIDVALIDITY is the creation time in seconds
    client = imap_account.client(folder=None)
    client.delete_folder("Records")
    client.create_folder("Records")
    client.logout()
    for raw in [*first, mail(subject="three")]:
        imap_account.append(raw, folder="Records")
    report = env.poll()
    assert (report.new, report.duplicates) == (1, 2)
    state = env.checkpoint()
    assert state is not None and state.uidvalidity != old and state.last_uid == 3
    assert len(env.rows()) == 3 and all(r.status == "processed" or r.status == "orphan" for r in env.rows())
    env.inbox.close()


def test_idle_wakes_on_new_mail(imap_env: ImapEnv) -> None:
    inbox = imap_env.inbox
    assert isinstance(inbox, ImapInbox)
    inbox.connect()
    assert inbox.has_idle
    started = time.monotonic()
    assert inbox.wait_for_mail(1.5) is False  # nothing arrives: the wait times out
    assert time.monotonic() - started >= 1.4
    result: dict[str, object] = {}

    def waiter() -> None:
        t0 = time.monotonic()
        result["woke"] = inbox.wait_for_mail(10)
        result["after"] = time.monotonic() - t0

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    imap_env.account.append(mail(subject="wake up"))
    thread.join(15)
    assert result["woke"] is True
    assert result["after"] < 5  # Dovecot holds notifications up to 0.5 s
    assert imap_env.poll().new == 1


def test_poller_survives_a_dovecot_restart(imap_env: ImapEnv) -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        kwargs={"settings": imap_env.settings, "sessions": imap_env.sessions, "inbox": imap_env.inbox,
                "stop": stop, "wait_seconds": 1.5},
        daemon=True,
    )
    thread.start()
    try:
        imap_env.account.append(mail(subject="before restart"))
        _wait_for(lambda: [r.status for r in imap_env.rows()] == ["processed"], 10)
        connects = imap_env.inbox.connects  # type: ignore[attr-defined]
        imap_env.account.restart()
        imap_env.account.append(mail(subject="after restart"))
        _wait_for(lambda: [r.status for r in imap_env.rows()] == ["processed", "processed"], 30)
        assert imap_env.inbox.connects > connects  # type: ignore[attr-defined]
        assert [r.subject for r in imap_env.rows()] == ["before restart", "after restart"]
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()


def test_idle_is_renewed_before_the_server_limit(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    # idle_renew_seconds caps every IDLE (default 25 min, under the 29-minute limit); here 1 s to see it.
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, idle_renew_seconds=1)
    env.inbox.connect()  # type: ignore[attr-defined]
    started = time.monotonic()
    assert env.inbox.wait_for_mail(30) is False
    assert time.monotonic() - started < 5
    imap_account.append(mail(subject="still listening"))
    assert env.poll().new == 1  # the same connection is still usable after DONE
    env.inbox.close()


def test_without_idle_the_wait_is_a_poll_interval(imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    from inbound_helpers import imap_settings

    inbox = ImapInbox(imap_settings(imap_account, idle=False).imap, poll_seconds=0.3)
    try:
        started = time.monotonic()
        assert inbox.wait_for_mail(10) is True  # "look now": the caller polls after every interval
        assert 0.25 <= time.monotonic() - started < 3
    finally:
        inbox.close()


def test_bounce_ooo_and_spoof_over_imap(imap_env: ImapEnv) -> None:
    for name in ("portal_ack.eml", "bounce_dsn.eml", "ooo.eml"):
        imap_env.account.append((EML / name).read_bytes())
    imap_env.account.append(mail(sender="it@phish.example", subject="Records ready: CRM-25-191"))
    report = imap_env.poll()
    assert (report.new, report.matched, report.orphaned) == (4, 3, 1)
    ack, bounce, ooo, spoof = imap_env.rows()
    assert (ack.kind, bounce.kind, ooo.kind) == ("reply", "bounce", "auto_reply")
    assert spoof.status == "orphan"
    with imap_env.sessions() as s:
        kinds = set(s.scalars(select(ReviewItem.kind).where(ReviewItem.message_row_id == spoof.id)))
    assert kinds == {"spoof"}


def test_tls_with_the_servers_certificate_as_ca(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    imap_account.append(mail(subject="over tls"))
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, security="tls",
                  port=imap_account.tls_port, ca_file=imap_account.server.cert)
    assert env.poll().new == 1
    env.inbox.close()


def test_starttls_with_the_servers_certificate_as_ca(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    imap_account.append(mail(subject="over starttls"))
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, security="starttls", ca_file=imap_account.server.cert)
    assert env.poll().new == 1
    env.inbox.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_unverified_certificate_is_refused(security: str, tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    port = imap_account.tls_port if security == "tls" else imap_account.port
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account, security=security, port=port)
    started = time.monotonic()
    with pytest.raises(InboxError, match="certificate not trusted"):
        list(env.inbox.batches(Checkpoint()))
    assert time.monotonic() - started < 5  # refused at once, not retried as if the server were down
    assert env.rows() == []


def test_wrong_password_is_not_retried(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from inbound_helpers import PASSWORD_ENV

    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    env = ImapEnv(tmp_path, sqlite_sessions, sqlite_url, imap_account)
    with pytest.raises(InboxError, match="login refused"):
        env.poll()


def _wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")
