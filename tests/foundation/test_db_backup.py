"""`agent db backup FILE`: a usable snapshot of a SQLite database in use; PostgreSQL is pointed at pg_dump."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.cli import app
from support.configs import write_config

runner = CliRunner()
COLUMNS = "(name, jurisdiction, emails, domains, tracking_patterns)"


def _agent(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["--config", str(config), *args])


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def _agencies(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM agencies ORDER BY name")]


def test_backup_while_a_writer_is_mid_transaction(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    assert _agent(config, "db", "upgrade").exit_code == 0
    db = tmp_path / "agent.db"
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute(f"INSERT INTO agencies {COLUMNS} VALUES ('Committed Office', 'CA', '[]', '[]', '[]')")
    # A second writer is half way through: its row must not be in the copy, and the copy must not wait for it.
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(f"INSERT INTO agencies {COLUMNS} VALUES ('Uncommitted Office', 'CA', '[]', '[]', '[]')")
    try:
        result = _agent(config, "db", "backup", str(tmp_path / "copy.db"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output and "copy.db" in result.output
    assert _agencies(tmp_path / "copy.db") == ["Committed Office"]
    revision = "SELECT version_num FROM alembic_version"
    with sqlite3.connect(tmp_path / "copy.db") as copy, sqlite3.connect(db) as source:
        assert copy.execute(revision).fetchone() == source.execute(revision).fetchone() is not None
    assert not list(tmp_path.glob(".copy.db.partial"))


def test_backup_never_overwrites_and_never_creates_a_database(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    missing = _agent(config, "db", "backup", str(tmp_path / "copy.db"))
    assert missing.exit_code == 1 and "no database at" in missing.output
    assert not (tmp_path / "agent.db").exists() and not (tmp_path / "copy.db").exists()

    assert _agent(config, "db", "upgrade").exit_code == 0
    (tmp_path / "old.db").write_bytes(b"yesterday's backup")
    again = _agent(config, "db", "backup", str(tmp_path / "old.db"))
    assert again.exit_code == 1 and "already exists" in again.output
    assert (tmp_path / "old.db").read_bytes() == b"yesterday's backup"
    nowhere = _agent(config, "db", "backup", str(tmp_path / "no" / "such" / "copy.db"))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output


@pytest.mark.postgres
def test_postgresql_gets_the_pg_dump_to_run_and_a_failing_exit(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://agent:s3cret-pw@db.example.org:6543/records")
    result = _agent(config, "db", "backup", "/backups/records.dump")
    assert result.exit_code == 1  # nothing was backed up: a cron job must notice
    line = " ".join(result.output.split())
    assert "pg_dump --format=custom --file /backups/records.dump 'postgresql://agent@db.example.org:6543/records'" in line
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output
