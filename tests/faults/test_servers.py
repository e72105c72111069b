"""Servers misbehaving under a running daemon: Dovecot restarted, SMTP answering 421/451 then 250, and 550."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.config import load_settings
from agent.daemon.run import build_jobs
from agent.db.models import Outbox, ReviewItem

sys.path.insert(0, str(Path(__file__).parent))
from harness import PASSWORD_ENV, Daemon, all_settled, audit, seed, wait_until, write_daemon_config  # noqa: E402


@pytest.mark.dovecot
@pytest.mark.slow
def test_dovecot_restarted_under_a_running_daemon(tmp_path: Path, sqlite_url, sqlite_sessions, imap_account, smtp_server) -> None:
    sessions = sqlite_sessions
    first = seed(sessions, n_out=0, n_in=20, prefix="a")
    imap_account.append_many(first.inbound)
    daemon = Daemon(write_daemon_config(tmp_path / "cfg", sqlite_url, imap_account, smtp_server, idle=True), "w1", tmp_path / "d.log")
    try:
        assert wait_until(lambda: all_settled(sessions, first), 60), daemon.log.read_text()[-2000:]
        imap_account.restart()
        second = seed(sessions, n_out=0, n_in=20, prefix="b")
        imap_account.append_many(second.inbound)
        assert wait_until(lambda: all_settled(sessions, second), 90), daemon.log.read_text()[-3000:]
        assert daemon.proc.poll() is None, "the daemon must survive the IMAP server going away"
        both = type(first)(inbound_ids=first.inbound_ids + second.inbound_ids)
        books = audit(sessions, both, [])
        assert books.lost_in == [] and books.inbound_rows == 40 and books.processed_twice == []
    finally:
        assert daemon.stop() == 0


@pytest.fixture
def send_jobs(tmp_path: Path, sqlite_url, sqlite_sessions, imap_account, smtp_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    settings = load_settings(write_daemon_config(tmp_path / "cfg", sqlite_url, imap_account, smtp_server))
    clock = {"now": dt.datetime(2025, 3, 3, 17, 0, tzinfo=dt.timezone.utc)}
    jobs = build_jobs(settings, worker_id="w1")
    jobs.clock = lambda: clock["now"]
    seeded = seed(sqlite_sessions, n_out=1, n_in=0)
    with sqlite_sessions.begin() as s:  # queued "now" on the test clock
        s.scalar(select(Outbox)).next_attempt_at = clock["now"]
    yield jobs, clock, seeded
    jobs.close()
    jobs.engine.dispose()


@pytest.mark.parametrize("code", [421, 451])
async def test_smtp_temporary_failure_then_250(send_jobs, smtp_server, code: int) -> None:
    jobs, clock, seeded = send_jobs
    smtp_server.script_data([code])
    first = await jobs.outbox()
    assert first is not None and first["retried"] == 1 and first.get("sent", 0) == 0
    assert smtp_server.messages == []
    again = await jobs.outbox()  # not due yet: the backoff holds it
    assert again is not None and again.get("sent", 0) == 0
    clock["now"] += dt.timedelta(minutes=5)
    last = await jobs.outbox()
    assert last is not None and last["sent"] == 1
    assert [m.message_id for m in smtp_server.messages] == seeded.outbound
    status = json.loads(jobs.settings.daemon.status_file.read_text())
    assert status["send"]["ok"] is True and status["queues"]["outbox_queued"] == 0


async def test_smtp_550_fails_the_row_for_review_without_retrying(send_jobs, smtp_server) -> None:
    jobs, clock, seeded = send_jobs
    smtp_server.script_data([550])
    report = await jobs.outbox()
    assert report is not None and report["failed"] == 1
    clock["now"] += dt.timedelta(hours=12)
    await jobs.outbox()
    assert smtp_server.messages == [] and smtp_server.data_attempts == 1
    with jobs.sessions() as s:
        row = s.scalar(select(Outbox))
        assert row.state == "failed" and row.last_code == 550
        assert s.scalar(select(ReviewItem).where(ReviewItem.request_id == row.request_id)) is not None
    status = json.loads(jobs.settings.daemon.status_file.read_text())
    assert status["queues"]["outbox_failed"] == 1


@pytest.mark.dovecot
def test_idle_wakes_the_poll_long_before_its_interval(tmp_path: Path, sqlite_url, sqlite_sessions, imap_account, smtp_server) -> None:
    config = write_daemon_config(tmp_path / "cfg", sqlite_url, imap_account, smtp_server, idle=True, ticks=3600)
    daemon = Daemon(config, "w1", tmp_path / "d.log")
    try:
        assert wait_until(daemon.started, 60)
        time.sleep(1.5)  # the first (start-up) poll has run; the next scheduled one is an hour away
        seeded = seed(sqlite_sessions, n_out=0, n_in=3)
        imap_account.append_many(seeded.inbound)
        assert wait_until(lambda: all_settled(sqlite_sessions, seeded), 20), daemon.log.read_text()[-2000:]
        assert "poll requested" in daemon.messages()
    finally:
        assert daemon.stop() == 0
