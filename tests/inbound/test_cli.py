"""`agent poll --once` and `agent reprocess` from the command line (in process, on a local Maildir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbound_helpers import EML, REPO_RULES
from typer.testing import CliRunner

from agent.cli import app
from agent.daemon.locks import AdvisoryLock
from agent.db import migrate
from agent.db.session import make_engine


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "{url}"\n[archive]\npath = "mailbox"\n[attachments]\npath = "att"\n'
        f'[inbox]\nbackend = "maildir"\nmaildir = "inbox"\n[rules]\npath = "{REPO_RULES}"\n'
    )
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "inbox" / sub).mkdir(parents=True)
    return cfg


def test_poll_once_prints_counts_then_reprocess(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    cfg = _config(tmp_path, sqlite_url)
    (tmp_path / "inbox" / "new" / "1.a").write_bytes((EML / "with_pdf.eml").read_bytes())
    (tmp_path / "inbox" / "new" / "2.b").write_bytes((EML / "garbage.bin").read_bytes())
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(cfg), "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "new=2 duplicates=0 matched=0 orphaned=1 quarantined=1"
    assert "quarantined" in result.output.splitlines()[1]
    again = runner.invoke(app, ["--config", str(cfg), "poll", "--once", "--json"])
    assert '"new": 0' in again.output
    redo = runner.invoke(app, ["--config", str(cfg), "reprocess", "--quarantined", "--json"])
    assert redo.exit_code == 0 and '"quarantined": 1' in redo.output
    assert runner.invoke(app, ["--config", str(cfg), "reprocess"]).exit_code == 2
    assert runner.invoke(app, ["--config", str(cfg), "reprocess", "--message", "999"]).exit_code == 1
    engine.dispose()


def test_poll_respects_the_postgres_inbox_lock(tmp_path: Path, fresh_pg_url: str) -> None:
    engine = make_engine(fresh_pg_url)
    migrate.upgrade(engine)
    cfg = _config(tmp_path, fresh_pg_url.replace("postgresql+psycopg://", "postgresql://"))
    held = AdvisoryLock(engine, "inbox:default")
    assert held.acquire()
    try:
        busy = CliRunner().invoke(app, ["--config", str(cfg), "poll", "--once"])
        assert busy.exit_code == 1 and "another agent is polling" in busy.output
    finally:
        held.release()
    free = CliRunner().invoke(app, ["--config", str(cfg), "poll", "--once"])
    assert free.exit_code == 0, free.output
    engine.dispose()


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_archive_check_finds_crash_leftovers_and_prunes_only_proven_copies(tmp_path: Path, sqlite_url: str) -> None:
    from agent.mail.archive import Archive

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    cfg = _config(tmp_path, sqlite_url)
    first = (EML / "with_pdf.eml").read_bytes()
    (tmp_path / "inbox" / "new" / "1.a").write_bytes(first)
    (tmp_path / "inbox" / "new" / "2.b").write_bytes((EML / "portal_ack.eml").read_bytes())
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(cfg), "poll", "--once"]).exit_code == 0
    # What a crash between archiving and recording leaves: another copy of a recorded message, and a file
    # whose message was never recorded at all (kept: it may be the only copy).
    archive = Archive(tmp_path / "mailbox")
    copy = archive.add(first).key
    stranger = archive.add(b"From: x@example.org\r\nSubject: never recorded\r\n\r\nbody\r\n").key

    check = runner.invoke(app, ["--config", str(cfg), "archive", "check"])
    assert check.exit_code == 0, check.output
    assert check.output.splitlines()[0] == "archive: files=4 referenced=2 duplicate_copies=1 unrecorded=1 missing=0 pruned=0 unarchived_sent=0"
    assert stranger in check.output

    pruned = runner.invoke(app, ["--config", str(cfg), "archive", "check", "--prune"])
    assert pruned.output.splitlines()[0].endswith("duplicate_copies=1 unrecorded=1 missing=0 pruned=1 unarchived_sent=0")
    assert copy not in archive and stranger in archive
    assert len(archive.keys()) == 3

    # A recorded message whose file has gone is an error the operator must hear about.
    victim = next(k for k in archive.keys() if k != stranger)
    assert archive.remove(victim)
    lost = runner.invoke(app, ["--config", str(cfg), "archive", "check", "--json"])
    assert lost.exit_code == 1 and '"missing": [' in lost.output
    engine.dispose()
