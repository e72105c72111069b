"""Fixtures for the inbound tests; plain helpers live in inbound_helpers.py (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agent.db import migrate
from agent.db.session import make_engine, make_session_factory

sys.path.insert(0, str(Path(__file__).parent))

from inbound_helpers import PASSWORD_ENV, World, seed_world  # noqa: E402


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return seed_world(sessions)


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """SQLite only, for tests whose logic does not depend on the database (keeps the folder quick)."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def imap_password(monkeypatch: pytest.MonkeyPatch) -> str:
    from support.dovecot import PASSWORD

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD
