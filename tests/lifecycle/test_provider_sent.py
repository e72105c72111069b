"""Gmail and Microsoft 365 file submitted mail in Sent themselves: then we append no second copy (real Dovecot)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from agent.config import ImapSettings, InboxSettings, Secret
from agent.outbox.send import drain_once

T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.dovecot


@pytest.mark.parametrize(("provider", "copies"), [("generic", 1), ("gmail", 0), ("microsoft365", 0)])
async def test_sent_copy_only_where_the_provider_does_not_file_it(
    provider: str, copies: int, sessions, settings, smtp_server, new_request, imap_account, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("RA_TEST_IMAP_PW", imap_account.password)
    imap = ImapSettings(
        host=imap_account.host, port=imap_account.port, security="plain", username=imap_account.user,
        password=Secret(env="RA_TEST_IMAP_PW"), sent_folder="Sent", provider=provider, timeout_seconds=10,  # type: ignore[arg-type]
    )
    settings = settings.model_copy(update={"inbox": InboxSettings(backend="imap", imap=imap)})
    new_request(now=T0)
    with time_machine.travel(T0, tick=True):
        assert (await drain_once(settings, sessions, worker_id="w1", now=T0)).sent == 1
    client = imap_account.client(folder=None)
    try:
        found = len(client.search(["ALL"])) if client.folder_exists("Sent") and client.select_folder("Sent") else 0
    finally:
        client.logout()
    assert found == copies
