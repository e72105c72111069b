"""Two daemons on one PostgreSQL database: every mail sent once, every inbound message processed once,
one inbox poller at a time, and the other takes over when the poller dies."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from agent.db import migrate
from agent.db.session import make_engine, make_session_factory

sys.path.insert(0, str(Path(__file__).parent))
from harness import Daemon, all_settled, audit, seed, wait_until, write_daemon_config  # noqa: E402

N = int(os.environ.get("AGENT_FAULT_N_PG", "80"))

TOOK = "took the inbox lock: this daemon polls the inbox"


@pytest.mark.postgres
@pytest.mark.dovecot
@pytest.mark.slow
def test_two_daemons_share_the_work_and_take_over(tmp_path: Path, fresh_pg_url: str, imap_account, smtp_server) -> None:
    engine = make_engine(fresh_pg_url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    try:
        first = seed(sessions, n_out=N, n_in=N, prefix="a")
        imap_account.append_many(first.inbound)
        a = Daemon(write_daemon_config(tmp_path / "a", fresh_pg_url, imap_account, smtp_server), "wa", tmp_path / "a.log")
        b = Daemon(write_daemon_config(tmp_path / "b", fresh_pg_url, imap_account, smtp_server), "wb", tmp_path / "b.log")
        assert wait_until(lambda: a.started() and b.started(), 60)
        assert wait_until(lambda: all_settled(sessions, first), 120)
        holders = [d for d in (a, b) if TOOK in d.messages()]
        assert len(holders) == 1, "exactly one daemon polls the inbox"
        holder, other = holders[0], (b if holders[0] is a else a)
        books = audit(sessions, first, [m.message_id for m in smtp_server.messages])
        assert books.received_twice == [] and books.lost_out == [] and books.sent == N
        assert books.lost_in == [] and books.inbound_rows == N and books.processed_twice == []
        # Both daemons sent mail: the outbox is shared with SKIP LOCKED, not owned by one.
        with sessions() as s:
            from sqlalchemy import func, select

            from agent.db.models import Outbox

            senders = dict(s.execute(select(Outbox.claimed_by, func.count()).group_by(Outbox.claimed_by)).all())
        print("sent by", senders)

        # The poller dies; new mail arrives and new letters are queued; the survivor handles all of it.
        holder.kill9()
        second = seed(sessions, n_out=N // 2, n_in=N // 2, prefix="b")
        imap_account.append_many(second.inbound)
        assert wait_until(lambda: all_settled(sessions, second), 120), other.log.read_text()[-3000:]
        assert TOOK in other.messages()
        both = type(first)(
            outbound=first.outbound + second.outbound,
            inbound=first.inbound + second.inbound,
            inbound_ids=first.inbound_ids + second.inbound_ids,
        )
        books = audit(sessions, both, [m.message_id for m in smtp_server.messages])
        print(books)
        assert books.received_twice == [] and books.lost_out == []
        assert books.sent + books.uncertain == N + N // 2
        assert books.lost_in == [] and books.inbound_rows == N + N // 2 and books.processed_twice == []
        assert other.stop() == 0
    finally:
        engine.dispose()
