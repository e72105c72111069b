"""An IMAP server that refuses connections: retries stay within timeout_seconds and end in one clear line."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inbound_helpers import REPO_RULES

from agent.config import ImapSettings
from agent.db import migrate
from agent.db.session import make_engine
from agent.mail.imap_inbox import ImapInbox
from agent.mail.inbox import Checkpoint, InboxConnectionError


def _closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_retries_are_bounded_by_timeout_seconds() -> None:
    port = _closed_port()
    attempts: list[float] = []

    def counting_factory(*args: object, **kwargs: object) -> object:
        from imapclient import IMAPClient

        attempts.append(time.monotonic())
        return IMAPClient(*args, **kwargs)

    cfg = ImapSettings(host="127.0.0.1", port=port, security="plain", username="u", timeout_seconds=1.5)
    inbox = ImapInbox(cfg, client_factory=counting_factory)
    started = time.monotonic()
    with pytest.raises(InboxConnectionError) as info:
        list(inbox.batches(Checkpoint()))
    elapsed = time.monotonic() - started
    assert elapsed < 2.5  # the old fixed 60 s budget is gone
    assert len(attempts) >= 3  # it did retry with backoff, within the budget
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "connection refused" in message and "timeout_seconds = 1.5" in message


def test_poll_once_against_a_refusing_server_fails_fast_with_one_line(tmp_path: Path, sqlite_url: str) -> None:
    migrate.upgrade(make_engine(sqlite_url))
    port = _closed_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "{sqlite_url}"\n[archive]\npath = "mailbox"\n[rules]\npath = "{REPO_RULES}"\n'
        f'[inbox]\nbackend = "imap"\n[inbox.imap]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "plain"\n'
        'username = "desk"\ntimeout_seconds = 2\n'
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(cfg), "poll", "--once"],
        capture_output=True, text=True, timeout=60,
    )
    elapsed = time.monotonic() - started
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:") and f"127.0.0.1:{port}" in lines[0] and "connection refused" in lines[0]
    assert elapsed < 15  # interpreter start-up plus the 2 s budget; it used to be silent for 64 s
