"""kill -9 of a real `agent poll --once` at the two dangerous moments, then a restart: no loss, no duplicate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inbound_helpers import BH_REPLY, PASSWORD_ENV, REPO_RULES, mail, seed_world
from sqlalchemy import func, select

from agent.config import load_settings
from agent.db import migrate
from agent.db.models import MailboxState, Message, ReviewItem
from agent.db.session import make_engine, make_session_factory
from agent.inbound.crash import CRASH_ENV
from agent.inbound.poll import poll_once
from agent.mail.archive import Archive
from agent.mail.inbox import open_inbox

pytestmark = pytest.mark.dovecot


def _config(tmp_path: Path, account) -> Path:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[database]
url = "sqlite:///agent.db"
[archive]
path = "mailbox"
[attachments]
path = "attachments"
[inbox]
backend = "imap"
account = "crash"
[inbox.imap]
host = "127.0.0.1"
port = {account.port}
security = "plain"
username = "{account.user}"
password = {{ env = "{PASSWORD_ENV}" }}
batch_size = 2
[rules]
path = "{REPO_RULES}"
"""
    )
    return cfg


def _poll(cfg: Path, crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env[PASSWORD_ENV] = "pw"
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(cfg), "poll", "--once"],
        env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("crash_at", ["after_archive", "after_checkpoint"])
def test_kill_then_restart_loses_nothing_and_duplicates_nothing(crash_at: str, tmp_path: Path, imap_account, imap_password: str) -> None:  # type: ignore[no-untyped-def]
    cfg = _config(tmp_path, imap_account)
    engine = make_engine(f"sqlite:///{tmp_path / 'agent.db'}")
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    world = seed_world(sessions)
    raws = [mail(to=BH_REPLY, subject=f"reply {i}") for i in range(3)]
    for raw in raws:
        imap_account.append(raw)

    crashed = _poll(cfg, crash_at)
    assert crashed.returncode == -9, crashed.stderr  # SIGKILL, exactly where asked
    with sessions() as s:
        rows = list(s.scalars(select(Message)))
        state = s.scalar(select(MailboxState))
    if crash_at == "after_archive":
        # Archived, but neither row nor checkpoint committed: the server still holds the truth.
        assert rows == [] and state is None
        assert len(Archive(tmp_path / "mailbox").keys()) == 2  # the first batch of two
    else:
        # Rows and checkpoint committed together; processing never started.
        assert [r.status for r in rows] == ["new", "new"]
        assert state is not None and state.last_uid == 2

    done = _poll(cfg, None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("new=")
    with sessions() as s:
        rows = list(s.scalars(select(Message).order_by(Message.id)))
        state = s.scalar(select(MailboxState))
        reviews = s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.kind.in_(["orphan", "quarantined"])))
    assert sorted(r.subject for r in rows) == ["reply 0", "reply 1", "reply 2"]  # all there, once each
    assert all(r.status == "processed" and r.request_id == world.r_bh for r in rows)
    assert state is not None and state.last_uid == 3
    assert reviews == 0
    archive = Archive(tmp_path / "mailbox")
    assert sorted(archive.get(r.archive_key) for r in rows) == sorted(r.replace(b"\n", b"\r\n") for r in raws)

    # A third pass (in process, to keep the test quick) finds nothing left to do.
    settings = load_settings(cfg)
    with open_inbox(settings) as inbox:
        again = poll_once(settings, sessions, inbox)
    assert again.line() == "new=0 duplicates=0 matched=0 orphaned=0 quarantined=0"
    engine.dispose()
