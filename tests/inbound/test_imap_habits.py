"""Providers' habits against a real Dovecot: extra folders, our own sent mail, the SINCE floor, a daily budget."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from inbound_helpers import imap_settings, make_settings, mail, seed_world
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import MailboxState, Message, Outbox, Request
from agent.inbound.poll import poll_once
from agent.mail.budget import DailyBudget
from agent.mail.imap_folders import ImapFolders
from agent.mail.imap_inbox import ImapInbox
from agent.mail.inbox import open_inbox

pytestmark = pytest.mark.dovecot
UTC = dt.timezone.utc


def _settings(tmp_path: Path, url: str, account, **imap: object):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, url, inbox=imap_settings(account, **imap))


def _append_dated(account, raw: bytes, when: dt.datetime, folder: str = "INBOX") -> None:  # type: ignore[no-untyped-def]
    client = account.client(folder=None)
    try:
        client.append(folder, raw, msg_time=when)
    finally:
        client.logout()


def _rows(sessions: sessionmaker[Session]) -> list[Message]:
    with sessions() as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def test_extra_folders_each_with_a_checkpoint(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    client = imap_account.client(folder=None)
    client.create_folder("Spam")
    client.logout()
    seed_world(sqlite_sessions)
    settings = _settings(tmp_path, sqlite_url, imap_account, extra_folders=["Spam"])
    inbox = open_inbox(settings)
    assert isinstance(inbox, ImapFolders) and [p.folder for p in inbox.parts] == ["INBOX", "Spam"]
    try:
        imap_account.append(mail(subject="in the inbox"))
        imap_account.append(mail(subject="filed as spam"), folder="Spam")
        assert poll_once(settings, sqlite_sessions, inbox).new == 2
        assert poll_once(settings, sqlite_sessions, inbox).new == 0
        imap_account.append(mail(subject="more spam"), folder="Spam")
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
    finally:
        inbox.close()
    assert [(r.folder, r.subject) for r in _rows(sqlite_sessions)] == [
        ("INBOX", "in the inbox"), ("Spam", "filed as spam"), ("Spam", "more spam")
    ]
    with sqlite_sessions() as s:
        states = {st.folder: st.last_uid for st in s.scalars(select(MailboxState))}
    assert states == {"INBOX": 1, "Spam": 2}


def test_our_own_sent_mail_is_archived_but_not_read_as_a_reply(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    world = seed_world(sqlite_sessions)
    with sqlite_sessions.begin() as s:
        s.add(Outbox(message_id="<sent-1@example.org>", kind="request", request_id=world.r_bh, agency_id=world.bh,
                     sender="records@example.org", recipients=["clerk@beverlyhills.org"], raw=b"x", state="sent"))
    settings = _settings(tmp_path, sqlite_url, imap_account)
    imap_account.append(mail(sender="Records Desk <records@example.org>", subject="a copy of our letter"))
    imap_account.append(mail(sender="someone@relay.example", message_id="<sent-1@example.org>", subject="our letter, relayed"))
    imap_account.append(mail(sender="clerk@beverlyhills.org", to="records+ra-2025-0001@example.org", subject="the agency"))
    inbox = open_inbox(settings)
    try:
        report = poll_once(settings, sqlite_sessions, inbox)
    finally:
        inbox.close()
    assert (report.new, report.own) == (3, 2)
    own, relayed, agency = _rows(sqlite_sessions)
    assert (own.status, relayed.status) == ("own", "own") and "From records@example.org" in (own.error or "")
    assert "Message-ID <sent-1@example.org>" in (relayed.error or "")
    assert own.archive_key and own.request_id is None  # kept in the archive, nothing applied
    assert agency.status != "own"


def test_first_run_fetches_from_the_first_filing_date(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    seed_world(sqlite_sessions)
    with sqlite_sessions.begin() as s:
        s.execute(update(Request).values(filed_at=dt.datetime(2024, 6, 1, 17, tzinfo=UTC)))
    _append_dated(imap_account, mail(subject="years old"), dt.datetime(2019, 3, 1, tzinfo=UTC))
    _append_dated(imap_account, mail(subject="after filing"), dt.datetime(2024, 7, 1, tzinfo=UTC))
    settings = _settings(tmp_path, sqlite_url, imap_account)
    inbox = open_inbox(settings)
    try:
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
        # Once there is a checkpoint the floor no longer applies: a new arrival is fetched whatever its date.
        _append_dated(imap_account, mail(subject="late, backdated"), dt.datetime(2018, 1, 1, tzinfo=UTC))
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
    finally:
        inbox.close()
    assert [r.subject for r in _rows(sqlite_sessions)] == ["after filing", "late, backdated"]


def test_a_configured_since_wins(tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    seed_world(sqlite_sessions)
    _append_dated(imap_account, mail(subject="old"), dt.datetime(2023, 1, 1, tzinfo=UTC))
    _append_dated(imap_account, mail(subject="new"), dt.datetime(2025, 1, 5, tzinfo=UTC))
    settings = _settings(tmp_path, sqlite_url, imap_account, since=dt.date(2025, 1, 1))
    inbox = open_inbox(settings)
    try:
        assert poll_once(settings, sqlite_sessions, inbox).new == 1
    finally:
        inbox.close()
    assert [r.subject for r in _rows(sqlite_sessions)] == ["new"]


def test_daily_budget_stops_then_resumes_next_day(
    tmp_path: Path, sqlite_sessions, sqlite_url: str, imap_account, imap_password: str, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    seed_world(sqlite_sessions)
    imap_account.append_many([mail(subject=f"m{i}") for i in range(5)])
    settings = _settings(tmp_path, sqlite_url, imap_account, daily_max_messages=2)
    inbox = open_inbox(settings)
    assert isinstance(inbox, ImapInbox)
    now = [dt.datetime(2026, 3, 2, 23, 0, tzinfo=UTC)]
    inbox.budget = DailyBudget(2, 0, clock=lambda: now[0])
    try:
        with caplog.at_level(logging.WARNING, logger="agent.mail.imap_inbox"):
            assert poll_once(settings, sqlite_sessions, inbox).new == 2
            assert poll_once(settings, sqlite_sessions, inbox).new == 0
        assert any("daily download budget spent" in r.getMessage() and "00:00 UTC" in r.getMessage() for r in caplog.records)
        assert inbox.wait_for_mail(0.05) is False  # still today: nothing to do but wait
        now[0] += dt.timedelta(hours=2)
        assert poll_once(settings, sqlite_sessions, inbox).new == 2
    finally:
        inbox.close()
    assert [r.subject for r in _rows(sqlite_sessions)] == ["m0", "m1", "m2", "m3"]


def test_daily_byte_budget() -> None:
    budget = DailyBudget(0, 1000, clock=lambda: dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert budget.take([400, 400, 400]) == 2 and budget.spent()
    fresh = DailyBudget(0, 1000, clock=lambda: dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert fresh.take([5000]) == 1  # one message bigger than the budget still gets through on a fresh day
    assert not DailyBudget().limited and DailyBudget().take([10**9] * 3) == 3
