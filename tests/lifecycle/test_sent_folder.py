"""The IMAP Sent folder (a real Dovecot): sent mail is appended there, and it settles a send a crash left in doubt."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlalchemy import select

from agent.config import ImapSettings, InboxSettings, Secret
from agent.db.models import Message, Outbox
from agent.outbox.send import drain_once

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=UTC)


def _with_sent_folder(settings, imap_account, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RA_TEST_IMAP_PW", imap_account.password)
    imap = ImapSettings(
        host=imap_account.host, port=imap_account.port, security="plain", username=imap_account.user,
        password=Secret(env="RA_TEST_IMAP_PW"), sent_folder="Sent", timeout_seconds=10,
    )
    return settings.model_copy(update={"inbox": InboxSettings(backend="imap", imap=imap)})


def _sent_ids(imap_account) -> list[str]:  # type: ignore[no-untyped-def]
    client = imap_account.client(folder="Sent")
    try:
        uids = client.search(["ALL"])
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        return [v[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip() for v in data.values()]
    finally:
        client.logout()


async def test_sent_mail_is_appended_to_the_sent_folder(
    sessions, settings, smtp_server, new_request, imap_account, monkeypatch
) -> None:
    settings = _with_sent_folder(settings, imap_account, monkeypatch)
    rid = new_request(now=T0)
    with time_machine.travel(T0, tick=True):
        report = await drain_once(settings, sessions, worker_id="w1", now=T0)
    assert report.sent == 1
    with sessions() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
    assert _sent_ids(imap_account) == [row.message_id]


async def test_a_copy_in_the_sent_folder_settles_an_interrupted_send(
    sessions, settings, smtp_server, new_request, imap_account, monkeypatch
) -> None:
    settings = _with_sent_folder(settings, imap_account, monkeypatch)
    rid = new_request(now=T0)
    # A sender died after the server accepted the mail and the copy reached Sent, before the DB or archive.
    with sessions.begin() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
        row.state, row.claimed_by, row.claimed_at, row.smtp_started_at, row.attempts = "sending", "w1", T0, T0, 1
        raw, message_id = row.raw, row.message_id
    imap_account.client(folder=None).create_folder("Sent")
    imap_account.append(raw, folder="Sent")
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=True):
        report = await drain_once(settings, sessions, worker_id="w1", now=T0 + dt.timedelta(minutes=1))
    assert (report.reconciled, report.uncertain, report.claimed) == (1, 0, 0)
    assert smtp_server.messages == []
    with sessions() as s:
        assert s.scalars(select(Outbox.state).where(Outbox.request_id == rid)).one() == "sent"
        out = s.scalars(select(Message).where(Message.direction == "out")).one()
        assert out.message_id == message_id
