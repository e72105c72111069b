"""kill -9 the daemon at random moments while it reads and sends a few hundred messages; restart each time.

Real servers: Dovecot (IMAP), aiosmtpd (SMTP), SQLite and PostgreSQL. At the end nothing is lost, nothing was processed
twice and nothing was sent twice (a send interrupted after the server's 250 is proven sent or set aside
for a person, never repeated).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

from agent.db import migrate
from agent.db.session import make_engine, make_session_factory

sys.path.insert(0, str(Path(__file__).parent))
from harness import Daemon, all_settled, audit, seed, wait_until, write_daemon_config  # noqa: E402

N = int(os.environ.get("AGENT_FAULT_N", "120"))  # each way; bench-sized runs set it higher
KILLS = int(os.environ.get("AGENT_FAULT_KILLS", "6"))


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path):
    """A database the test and the daemon subprocesses open by the same URL."""
    url = f"sqlite:///{tmp_path / 'agent.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_pg_url")
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield url, make_session_factory(engine)
    engine.dispose()


@pytest.mark.dovecot
@pytest.mark.slow
def test_kill9_at_random_moments_loses_nothing_and_doubles_nothing(tmp_path: Path, shared_db, imap_account, smtp_server) -> None:
    db_url, sessions = shared_db
    rng = random.Random(int(os.environ.get("AGENT_FAULT_SEED", "8")))
    seeded = seed(sessions, n_out=N, n_in=N)
    imap_account.append_many(seeded.inbound)
    config = write_daemon_config(tmp_path / "cfg", db_url, imap_account, smtp_server)
    log = tmp_path / "daemon.log"
    kills = 0
    for _ in range(KILLS):
        daemon = Daemon(config, "w1", log)
        assert wait_until(daemon.started, 60), log.read_text()[-3000:]
        time.sleep(rng.uniform(0.05, 1.2))
        daemon.kill9()
        kills += 1
        if all_settled(sessions, seeded):
            break
    final = Daemon(config, "w1", log)
    assert wait_until(lambda: all_settled(sessions, seeded), 120), log.read_text()[-3000:]
    assert final.stop() == 0
    books = audit(sessions, seeded, [m.message_id for m in smtp_server.messages])
    print(f"kills={kills} {books}")
    assert books.received_twice == []
    assert books.lost_out == []
    assert books.sent + books.uncertain == N
    assert books.lost_in == [] and books.inbound_rows == N
    assert books.processed_twice == []
    assert books.not_settled == 0
