"""Fixtures for the operator tests: a seeded database (SQLite and PostgreSQL) and a config file pointing at it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agent.operators.clock import local_today
from operators.seed import Seeded, seed

REPO = Path(__file__).resolve().parents[2]
ZONE = "America/Los_Angeles"


@pytest.fixture
def today() -> dt.date:
    return local_today(ZONE)


@pytest.fixture
def seeded(sessions: sessionmaker[Session], today: dt.date) -> Seeded:
    with sessions.begin() as session:
        return seed(session, today)


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[rules]
path = "{REPO / 'rules'}"
[archive]
path = "{tmp_path / 'mailbox'}"
[schedule]
timezone = "{ZONE}"
[daemon]
status_file = "{tmp_path / 'status.json'}"
[identity]
operators = ["ops@example.org", "lead@example.org"]
""",
        encoding="utf-8",
    )
    return path
