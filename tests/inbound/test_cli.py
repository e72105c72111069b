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
