"""Fault-test helpers: an inbound workspace (config, Maildir inbox, archive) on the test database."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agent.config import Settings, load_settings
from support import configs
from agent.daemon.ruleset import load_rules
from agent.db.models import Agency, Request

REPO = Path(__file__).resolve().parents[2]
PLUS = "records+ra-2025-0001-abcd@example.org"


@dataclass
class Inbound:
    settings: Settings
    sessions: sessionmaker[Session]
    rules: object

    def __repr__(self) -> str:  # hypothesis prints the fixture with every failing example
        return f"Inbound({self.settings.source})"

    def deliver(self, raw: bytes) -> None:
        mailbox.Maildir(self.settings.inbox.maildir, factory=None, create=True).add(raw)


def write_inbound_config(folder: Path, db_url: str, *, max_attachment: int = 1_000_000) -> Path:
    return configs.write_config(
        folder,
        db_url,
        attachments={"path": "attachments", "max_bytes": max_attachment},
        identity={"address": "records@example.org"},
        daemon={"status_file": "status.json"},
    )


def seed_request(sessions: sessionmaker[Session]) -> None:
    """One open request, so mail to its reply address (loops from ourselves included) has something to match."""
    with sessions.begin() as s:
        agency = Agency(name="City of Example", jurisdiction="CA", emails=["clerk@city.example"], domains=["city.example"])
        s.add(agency)
        s.flush()
        s.add(Request(reference="RA-2025-0001", agency_id=agency.id, state="sent", jurisdiction="CA", reply_address=PLUS, subject="[RA-2025-0001] Records"))


@pytest.fixture
def sqlite_sessions(sqlite_url: str):
    """SQLite only: for subprocess tests whose daemons must open the very same database file."""
    from agent.db import migrate
    from agent.db.session import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _workspace(folder: Path, db_url: str, sessions) -> Inbound:  # type: ignore[no-untyped-def]
    settings = load_settings(write_inbound_config(folder, db_url))
    seed_request(sessions)
    return Inbound(settings, sessions, load_rules(settings.rules_path))


@pytest.fixture
def inbound(tmp_path: Path, db_url: str, sessions) -> Inbound:
    return _workspace(tmp_path / "ws", db_url, sessions)


@pytest.fixture
def fuzz_inbound(tmp_path: Path, sqlite_sessions, sqlite_url: str) -> Inbound:
    """One SQLite workspace for a whole hypothesis run (examples share it, as mail shares one inbox)."""
    return _workspace(tmp_path / "fuzz", sqlite_url, sqlite_sessions)
